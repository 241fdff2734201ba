/**
 * One shoplake process at a time per state directory: `serve`, `demo`, `ingest`, `train` (they
 * start the emulators) and `etl` (it writes the lake) claim `<state dir>/runtime.pid` first.
 *
 * The claim file records the holder's pid, its start time (field 22 of `/proc/<pid>/stat`, in
 * clock ticks since boot), a random nonce and the command. A claim is live only if a process
 * with that pid exists and is the same process (same start time; for claims written without a
 * start time, a command line that looks like shoplake's). A file left by a killed process, or
 * naming a pid the system has since given to an unrelated process, is taken over.
 */
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

/** File naming the process that holds a state directory. */
export const RUNTIME_LOCK_FILE = 'runtime.pid';
/** Marker: only directories carrying it are wiped by `demo`. */
export const STATE_MARKER = '.shoplake-state';
/** Exit code of a command refused because another process holds the state directory (EX_TEMPFAIL). */
export const STATE_DIR_IN_USE_EXIT_CODE = 75;

/** What `runtime.pid` says about its holder. */
export interface StateDirClaim {
  readonly pid: number;
  /** Start time of the process in clock ticks since boot (`/proc/<pid>/stat` field 22). */
  readonly startTime?: string;
  readonly nonce?: string;
  readonly command?: string;
  readonly claimedAt?: string;
}

export class StateDirInUseError extends Error {
  /** The process exit code the CLI uses for this error. */
  readonly exitCode = STATE_DIR_IN_USE_EXIT_CODE;
  readonly holder: StateDirClaim | undefined;
  constructor(stateDir: string, cause: unknown, holder?: StateDirClaim) {
    super(
      `state directory ${stateDir} is in use by another shoplake process${
        holder ? ` (pid ${holder.pid}${holder.command ? `, ${holder.command}` : ''})` : ''
      }; wait for it to finish or stop it (is \`shoplake serve\`, \`demo\` or \`etl\` running?)`,
      { cause },
    );
    this.name = 'StateDirInUseError';
    this.holder = holder;
  }

  /** For `--json` errors (local/cli/errors.ts). */
  cliDetails(): Record<string, unknown> {
    return { holder_pid: this.holder?.pid ?? null, holder_command: this.holder?.command ?? null };
  }
}

/** A process's start time (clock ticks since boot), or undefined where /proc is not available. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses: split after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall = index 19 after pid and comm
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** Parses a claim file: JSON, or the bare pid older versions wrote. */
export function parseClaim(text: string): StateDirClaim | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) };
  try {
    const value: unknown = JSON.parse(trimmed);
    if (typeof value !== 'object' || value === null) return undefined;
    const v = value as Record<string, unknown>;
    if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0) return undefined;
    return {
      pid: v.pid,
      ...(typeof v.startTime === 'string' ? { startTime: v.startTime } : {}),
      ...(typeof v.nonce === 'string' ? { nonce: v.nonce } : {}),
      ...(typeof v.command === 'string' ? { command: v.command } : {}),
      ...(typeof v.claimedAt === 'string' ? { claimedAt: v.claimedAt } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * True if the claim's holder is still running: the pid exists and is the same process (same
 * start time), or — for a claim without a start time — runs something that looks like shoplake
 * (`shoplake`, `bin/shoplake.mjs`, the CLI under tsx, or a test runner in a shoplake checkout).
 */
export function claimIsLive(claim: StateDirClaim): boolean {
  if (!processAlive(claim.pid)) return false;
  const start = processStartTime(claim.pid);
  if (claim.startTime !== undefined && start !== undefined) return start === claim.startTime;
  const cmdline = commandLine(claim.pid);
  if (cmdline === undefined) return true; // no /proc: trust the pid
  return /shoplake|vitest|local\/cli/.test(cmdline);
}

/** The shoplake command this process runs (first argument that is not an option or its value). */
function cliCommand(argv: readonly string[] = process.argv): string {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--state-dir') i++;
    else if (!a.startsWith('-')) return a;
  }
  return 'shoplake';
}

/** Claims taken by this process, by state directory (nested claims share one file). */
const held = new Map<string, { claim: StateDirClaim; count: number }>();

/** Reads the current claim file (undefined if absent). Unreadable content counts as stale. */
function readClaim(file: string): { text: string; claim: StateDirClaim | undefined } | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    return { text, claim: parseClaim(text) };
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Claims a state directory for this process; returns the release function. Refuses with
 * `StateDirInUseError` (exit code 75 in the CLI) if another live shoplake process holds it;
 * takes over a stale claim. Claims nest within one process (the demo's ETL stage runs inside
 * the demo's claim).
 */
export function claimStateDir(stateDir: string, command = cliCommand()): () => void {
  const dir = resolve(stateDir);
  const file = join(dir, RUNTIME_LOCK_FILE);
  mkdirSync(dir, { recursive: true });
  const mine = held.get(dir);
  if (mine && existsSync(file) && readClaim(file)?.claim?.nonce === mine.claim.nonce) {
    mine.count += 1;
    return releaser(dir, file, mine.claim);
  }
  const startTime = processStartTime(process.pid);
  const claim: StateDirClaim = {
    pid: process.pid,
    ...(startTime !== undefined ? { startTime } : {}),
    nonce: randomUUID(),
    command: command || 'shoplake',
    claimedAt: new Date().toISOString(),
  };
  const tmp = join(dir, `.${RUNTIME_LOCK_FILE}.${claim.nonce}`);
  writeFileSync(tmp, `${JSON.stringify(claim)}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file); // atomic: fails if a claim exists
        break;
      } catch (error: unknown) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw error;
      }
      const current = readClaim(file);
      if (!current) continue; // released meanwhile
      if (current.claim && current.claim.pid !== process.pid && claimIsLive(current.claim)) {
        throw new StateDirInUseError(
          dir,
          new Error(`${file} names running process ${current.claim.pid}`),
          current.claim,
        );
      }
      takeOverStale(file, current.text);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  held.set(dir, { claim, count: 1 });
  return releaser(dir, file, claim);
}

/**
 * Moves a stale claim aside atomically. If another process replaced it between our read and
 * the move, its fresh claim is put back (link fails if yet another claim appeared meanwhile).
 */
function takeOverStale(file: string, staleText: string): void {
  const aside = `${file}.stale-${randomUUID()}`;
  try {
    renameSync(file, aside);
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (readFileSync(aside, 'utf8') !== staleText) {
      try {
        linkSync(aside, file);
      } catch {
        // a third claim exists now; the next attempt judges it
      }
    }
  } finally {
    rmSync(aside, { force: true });
  }
}

function releaser(dir: string, file: string, claim: StateDirClaim): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const mine = held.get(dir);
    if (mine && mine.claim.nonce === claim.nonce) {
      mine.count -= 1;
      if (mine.count > 0) return;
      held.delete(dir);
    }
    try {
      if (readClaim(file)?.claim?.nonce === claim.nonce) unlinkSync(file);
    } catch {
      // already gone
    }
  };
}

/** Runs `fn` holding the state-directory claim. */
export async function withStateDirClaim<T>(
  stateDir: string,
  command: string,
  fn: () => Promise<T>,
): Promise<T> {
  const release = claimStateDir(stateDir, command);
  try {
    return await fn();
  } finally {
    release();
  }
}

/**
 * Empties a state directory for a fresh run. Refuses directories that do not look like shoplake
 * state (no marker file and not empty), so a mistyped `--state-dir` cannot wipe a home folder.
 */
export function resetStateDir(stateDir: string): void {
  if (!existsSync(stateDir)) return;
  const entries = readdirSync(stateDir);
  if (entries.length > 0 && !entries.includes(STATE_MARKER)) {
    throw new Error(
      `refusing to reset ${stateDir}: it is not a shoplake state directory (no ${STATE_MARKER})`,
    );
  }
  // Never pull the state from under a running `shoplake serve`, `demo` or `etl`.
  claimStateDir(stateDir, 'demo --reset')();
  for (const entry of entries) rmSync(join(stateDir, entry), { recursive: true, force: true });
}
