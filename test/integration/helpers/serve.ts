/**
 * A demo lake and `shoplake serve` on it, as child processes of the CLI a user runs: for the
 * dashboard browser test and the API contract test.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../../local/engine/sql-files.ts';

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'bin/shoplake.mjs');

/** Where tests write artifacts (screenshots…): `SHOPLAKE_TEST_OUTPUT` or `test-output/`. */
export const TEST_OUTPUT_DIR = process.env.SHOPLAKE_TEST_OUTPUT ?? join(REPO_ROOT, 'test-output');

/** Builds a small multi-month demo lake (ingest → ETL → training) in `stateDir`. */
export async function buildDemoLake(
  stateDir: string,
  options: { events: number; days: number },
): Promise<void> {
  await run(
    process.execPath,
    [
      CLI,
      '--state-dir',
      stateDir,
      'demo',
      '--events',
      String(options.events),
      '--days',
      String(options.days),
      '--no-serve',
      '--quiet',
    ],
    { timeout: 240_000, maxBuffer: 32 * 1024 * 1024 },
  );
}

/** `shoplake query --json` on the lake. */
export async function cliQuery(stateDir: string, sql: string): Promise<Record<string, unknown>[]> {
  const { stdout } = await run(process.execPath, [CLI, '--state-dir', stateDir, 'query', sql, '--json'], {
    timeout: 60_000,
    maxBuffer: 32 * 1024 * 1024,
  });
  return (JSON.parse(stdout) as { rows: Record<string, unknown>[] }).rows;
}

export interface Served {
  readonly url: string;
  readonly dashboardUrl: string;
  stop(): Promise<void>;
}

/** Starts `shoplake serve --port 0` and resolves with its URLs once it prints them. */
export function serveLake(stateDir: string, timeoutMs = 60_000): Promise<Served> {
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, '--state-dir', stateDir, 'serve', '--port', '0', '--quiet'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`shoplake serve printed no dashboard URL within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const m = /dashboard: (http:\/\/\S+)\/dashboard/.exec(stderr);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ url: m[1], dashboardUrl: `${m[1]}/dashboard`, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`shoplake serve exited (${code}):\n${stderr}`));
    });
  });
}
