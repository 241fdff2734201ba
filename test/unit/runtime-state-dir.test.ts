import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  claimStateDir,
  RUNTIME_LOCK_FILE,
  resetStateDir,
  StateDirInUseError,
} from '../../local/runtime/runtime.ts';

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

/** A live process other than this one, and a way to end it. */
async function otherProcess() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
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
    const release = claimStateDir(d);
    expect(readFileSync(join(d, RUNTIME_LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(join(d, RUNTIME_LOCK_FILE))).toBe(false);
  });

  it('refuses a directory held by another running process, with its pid, and takes over once it is gone', async () => {
    const d = stateDir();
    const other = await otherProcess();
    writeFileSync(join(d, RUNTIME_LOCK_FILE), `${other.pid}\n`);
    expect(() => claimStateDir(d)).toThrow(StateDirInUseError);
    expect(() => claimStateDir(d)).toThrow(/in use by another shoplake process/);
    try {
      claimStateDir(d);
    } catch (error: unknown) {
      expect(String((error as Error).cause)).toContain(`running process ${other.pid}`);
    }
    // `shoplake demo` resets the directory first: that must not pull state from under it.
    expect(() => resetStateDir(d)).toThrow(StateDirInUseError);
    expect(existsSync(join(d, RUNTIME_LOCK_FILE))).toBe(true);
    await other.stop();
    const release = claimStateDir(d); // stale: taken over
    expect(readFileSync(join(d, RUNTIME_LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release();
  });

  it('treats an unreadable lock file as stale', () => {
    const d = stateDir();
    writeFileSync(join(d, RUNTIME_LOCK_FILE), 'garbage');
    claimStateDir(d)();
    resetStateDir(d);
    expect(existsSync(join(d, '.shoplake-state'))).toBe(false);
  });
});
