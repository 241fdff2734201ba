/** CLI basics that need no runtime: --version, usage errors (exit 2) before anything starts, exit codes in --help. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RegistryEntry } from '../../lambdas/shared/recommender/store.ts';
import { EXIT_CODES, isoDateArg } from '../../local/cli/args.ts';
import { ndjsonPayloads, ndjsonStreamPayloads } from '../../local/cli/commands/ingest.ts';
import { UnknownModelVersionError } from '../../local/cli/commands/models.ts';
import { errorBody, jsonRequested } from '../../local/cli/errors.ts';
import { exitCodeOf } from '../../local/cli/main.ts';
import { progressBarsEnabled } from '../../local/cli/progress.ts';
import { STATE_DIR_IN_USE_EXIT_CODE, StateDirInUseError } from '../../local/runtime/state-dir.ts';
import {
  DATA_QUALITY_GATE_EXIT_CODE,
  EtlRunFailedError,
  type LocalEtlResult,
} from '../../local/sfn/etl-runner.ts';

const BIN = fileURLToPath(new URL('../../bin/shoplake.mjs', import.meta.url));
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (e, stdout, stderr) =>
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : 1) : 0,
        stdout,
        stderr,
        ms: Date.now() - started,
      }),
    );
  });
}

describe('shoplake CLI polish', () => {
  it('prints its version', async () => {
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('documents the exit codes in --help', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /Exit codes:[\s\S]*2 {3}usage error[\s\S]*65 {2}data-quality gate failed[\s\S]*75 {2}state directory in use/,
    );
  });

  it('refuses an impossible --date with exit 2 and a clear message, without starting the runtime', async () => {
    const r = await cli(['--state-dir', '/nonexistent/never-created', 'etl', '--date', '2026-13-45']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--date must be a calendar date YYYY-MM-DD, got "2026-13-45"');
    expect(r.stderr).not.toMatch(/undefined|emulator|starting/i);
  });

  it('answers unknown options with exit 2', async () => {
    expect((await cli(['--bogus'])).code).toBe(2);
    expect((await cli(['serve', '--cors-origin', 'not-an-origin'])).code).toBe(2);
  });

  it('maps errors to the documented exit codes', () => {
    expect(EXIT_CODES.dataQualityGate).toBe(DATA_QUALITY_GATE_EXIT_CODE);
    expect(EXIT_CODES.stateDirInUse).toBe(STATE_DIR_IN_USE_EXIT_CODE);
    const result = (error: string): LocalEtlResult => ({
      status: 'FAILED',
      steps: [],
      failedChecks: [],
      notifications: [],
      error: { error, cause: '' },
      elapsedMs: 1,
    });
    expect(exitCodeOf(new EtlRunFailedError(result('DataQualityGateFailed'), 'gate'))).toBe(65);
    expect(exitCodeOf(new EtlRunFailedError(result('States.TaskFailed'), 'task'))).toBe(1);
    expect(exitCodeOf(new StateDirInUseError('/x', undefined, { pid: 1 }))).toBe(75);
    expect(exitCodeOf(new Error('boom'))).toBe(1);
    expect(exitCodeOf('not even an error')).toBe(1);
  });

  it('describes errors for --json with a stable snake_case code and the error fields', () => {
    class UnknownThingInCatalogError extends Error {
      readonly thingName = 'x';
      readonly nested = { not: 'primitive' };
      constructor() {
        super('no such thing');
        this.name = 'UnknownThingInCatalogError';
      }
    }
    expect(errorBody(new UnknownThingInCatalogError())).toEqual({
      code: 'unknown_thing_in_catalog',
      message: 'no such thing',
      exit_code: 1,
      thing_name: 'x',
    });
    expect(errorBody(new Error('plain'))).toEqual({ code: 'failure', message: 'plain', exit_code: 1 });
    expect(errorBody(new StateDirInUseError('/s', undefined, { pid: 42, command: 'serve' }))).toMatchObject({
      code: 'state_dir_in_use',
      exit_code: 75,
      holder_pid: 42,
      holder_command: 'serve',
    });
    expect(jsonRequested(['etl', '--json'])).toBe(true);
    expect(jsonRequested(['query', '--', '--json'])).toBe(false);
  });

  it('accepts real calendar dates only', () => {
    const parse = isoDateArg('--date');
    expect(parse('2026-11-20')).toBe('2026-11-20');
    for (const bad of ['2026-02-30', '2026-13-45', '20261120', '2026-1-2', ''])
      expect(() => parse(bad)).toThrow();
  });
});

describe('ingest input as a stream (ingest -)', () => {
  const text = '{"a":1}\r\n\n{"b":"é"}\nnot json\n  \n{"c":3}';

  async function collect(chunks: AsyncIterable<string | Buffer>): Promise<unknown[]> {
    const out: unknown[] = [];
    for await (const p of ndjsonStreamPayloads(() => chunks)) out.push(p);
    return out;
  }

  it('yields the same payloads as the whole-text reader, however the bytes are chunked', async () => {
    const expected = [...ndjsonPayloads(text)];
    expect(expected).toEqual([{ a: 1 }, { b: 'é' }, 'not json', { c: 3 }]);
    const bytes = Buffer.from(text, 'utf8');
    for (const size of [1, 2, 3, 7, bytes.length]) {
      async function* chunked() {
        for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
      }
      expect(await collect(chunked()), `chunks of ${size} bytes`).toEqual(expected);
    }
  });

  it('hands over a line as soon as it is complete, before the input ends', async () => {
    let release: () => void = () => {};
    const blocked = new Promise<void>((r) => {
      release = r;
    });
    async function* slowInput() {
      yield '{"first":true}\n{"sec';
      await blocked; // the producer is still writing
      yield 'ond":true}\n';
    }
    const it = ndjsonStreamPayloads(() => slowInput());
    const first = await Promise.race([
      it.next(),
      new Promise((r) => setTimeout(() => r('timed out'), 2_000)),
    ]);
    expect(first).toEqual({ value: { first: true }, done: false });
    release();
    expect(await it.next()).toEqual({ value: { second: true }, done: false });
    expect((await it.next()).done).toBe(true);
  });
});

describe('shoplake models rollback UNKNOWN', () => {
  it('lists the versions that can be rolled back to, not those the gate refused', () => {
    const entry = (version: string, status: string) => ({ version, status }) as unknown as RegistryEntry;
    const e = new UnknownModelVersionError('v9', [
      entry('v3', 'active'),
      entry('v2', 'retired'),
      entry('v1', 'published'),
      entry('v0', 'rejected'),
    ]);
    expect(e.message).toBe(
      'model version "v9" does not exist in the registry; versions you can roll back to: v3 (active), v2 (retired), v1 (published)',
    );
    expect(errorBody(e)).toMatchObject({
      code: 'unknown_model_version',
      exit_code: 1,
      version: 'v9',
      available_versions: [
        { version: 'v3', status: 'active' },
        { version: 'v2', status: 'retired' },
        { version: 'v1', status: 'published' },
      ],
    });
  });
});

describe('progress bars', () => {
  it('are drawn only on a terminal, never with --json, --quiet, CI or TERM=dumb', () => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as NodeJS.WriteStream;
    const env = { TERM: 'xterm' };
    expect(progressBarsEnabled({ stream: tty, env })).toBe(true);
    expect(progressBarsEnabled({ stream: pipe, env })).toBe(false);
    expect(progressBarsEnabled({ stream: tty, env, json: true })).toBe(false);
    expect(progressBarsEnabled({ stream: tty, env, quiet: true })).toBe(false);
    expect(progressBarsEnabled({ stream: tty, env: { ...env, CI: 'true' } })).toBe(false);
    expect(progressBarsEnabled({ stream: tty, env: { ...env, CI: 'false' } })).toBe(true);
    expect(progressBarsEnabled({ stream: tty, env: { TERM: 'dumb' } })).toBe(false);
  });
});
