/** CLI basics that need no runtime: --version, usage errors (exit 2) before anything starts, exit codes in --help. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isoDateArg } from '../../local/cli/args.ts';

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
    expect(r.stdout).toMatch(/Exit codes:[\s\S]*2 {3}usage error[\s\S]*75 {2}state directory in use/);
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

  it('accepts real calendar dates only', () => {
    const parse = isoDateArg('--date');
    expect(parse('2026-11-20')).toBe('2026-11-20');
    for (const bad of ['2026-02-30', '2026-13-45', '20261120', '2026-1-2', ''])
      expect(() => parse(bad)).toThrow();
  });
});
