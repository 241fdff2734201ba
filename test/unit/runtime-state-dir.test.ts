import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  claimStateDir,
  parseClaim,
  processStartTime,
  RUNTIME_LOCK_FILE,
  resetStateDir,
  STATE_DIR_IN_USE_EXIT_CODE,
  StateDirInUseError,
} from '../../local/runtime/state-dir.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'state-dir-'));
  dirs.push(d);
  writeFileSync(join(d, '.shoplake-state'), '');
  return d;
}

const claimFile = (d: string) => join(d, RUNTIME_LOCK_FILE);
const holderPid = (d: string) => parseClaim(readFileSync(claimFile(d), 'utf8'))?.pid;

/** A claim file as a running shoplake process with this pid writes it. */
function claimOf(pid: number, startTime = processStartTime(pid)): string {
  return JSON.stringify({ pid, startTime, nonce: 'n', command: 'etl' });
}

/** A live process other than this one, and a way to end it. */
async function otherProcess(command: string[] = [process.execPath, '-e', 'setTimeout(() => {}, 60000)']) {
  const [file = '', ...args] = command;
  const child = spawn(file, args, { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  return {
    pid: child.pid as number,
    stop: () =>
      new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill();
      }),
  };
}

describe('state directory claim', () => {
  it('is written with this pid and removed on release', () => {
    const d = stateDir();
    const release = claimStateDir(d, 'etl');
    const claim = parseClaim(readFileSync(claimFile(d), 'utf8'));
    expect(claim?.pid).toBe(process.pid);
    expect(claim?.command).toBe('etl');
    expect(claim?.startTime).toBe(processStartTime(process.pid));
    expect(claim?.nonce).toMatch(/^[0-9a-f-]{36}$/);
    release();
    expect(existsSync(claimFile(d))).toBe(false);
  });

  it('nests within one process: the file stays until the outermost claim is released', () => {
    const d = stateDir();
    const outer = claimStateDir(d, 'demo');
    const inner = claimStateDir(d, 'etl');
    inner();
    inner(); // releasing twice is harmless
    expect(holderPid(d)).toBe(process.pid);
    outer();
    expect(existsSync(claimFile(d))).toBe(false);
  });

  it('refuses a directory held by another running process, with its pid, and takes over once it is gone', async () => {
    const d = stateDir();
    const other = await otherProcess();
    writeFileSync(claimFile(d), claimOf(other.pid));
    expect(() => claimStateDir(d)).toThrow(StateDirInUseError);
    expect(() => claimStateDir(d)).toThrow(/pid \d+, etl/);
    expect(() => claimStateDir(d)).toThrow(/in use by another shoplake process/);
    try {
      claimStateDir(d);
    } catch (error: unknown) {
      expect(String((error as Error).cause)).toContain(`running process ${other.pid}`);
      expect((error as StateDirInUseError).exitCode).toBe(STATE_DIR_IN_USE_EXIT_CODE);
    }
    // `shoplake demo` resets the directory first: that must not pull state from under it.
    expect(() => resetStateDir(d)).toThrow(StateDirInUseError);
    expect(existsSync(claimFile(d))).toBe(true);
    await other.stop();
    const release = claimStateDir(d); // stale: taken over
    expect(holderPid(d)).toBe(process.pid);
    release();
  });

  it('takes over a claim whose pid now belongs to an unrelated process (pid reused)', async () => {
    const d = stateDir();
    const unrelated = await otherProcess(['sleep', '60']);
    try {
      // Same pid, but the claim was written by a process that started at another time.
      const realStart = processStartTime(unrelated.pid);
      expect(realStart, 'this test needs /proc').toBeDefined();
      writeFileSync(claimFile(d), claimOf(unrelated.pid, String(Number(realStart) - 1)));
      const release = claimStateDir(d);
      expect(holderPid(d)).toBe(process.pid);
      release();
      // A bare pid (older claim format) naming a process that is not shoplake: stale too.
      writeFileSync(claimFile(d), `${unrelated.pid}\n`);
      const again = claimStateDir(d);
      expect(holderPid(d)).toBe(process.pid);
      again();
    } finally {
      await unrelated.stop();
    }
  });

  it('treats an unreadable lock file as stale', () => {
    const d = stateDir();
    writeFileSync(claimFile(d), 'garbage');
    claimStateDir(d)();
    resetStateDir(d);
    expect(existsSync(join(d, '.shoplake-state'))).toBe(false);
  });
});
