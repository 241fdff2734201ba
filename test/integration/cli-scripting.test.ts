/**
 * The `shoplake` CLI as scripts use it (child processes of `bin/shoplake.mjs`): `ingest -` from
 * a pipe, the documented exit codes, JSON errors with `--json`, and clear messages for unknown
 * model versions.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEvent, type ShopEvent } from '../../lambdas/shared/event-schema.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { writeLandingFiles } from '../../local/sfn/landing.ts';

const BIN = fileURLToPath(new URL('../../bin/shoplake.mjs', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../../examples/events.ndjson', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'shoplake-cli-scripting-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `stdin` written to its standard input (in the given pieces, with a pause between). */
function cli(args: string[], stdin: string[] = [], timeoutMs = 180_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`shoplake ${args.join(' ')} timed out after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    void (async () => {
      for (const [i, piece] of stdin.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 200));
        child.stdin.write(piece);
      }
      child.stdin.end();
    })();
  });
}

interface IngestSummary {
  file: string;
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  rejected_by_reason: Record<string, number>;
}

describe('shoplake ingest -', () => {
  it('reads standard input as it arrives and accounts for it exactly like the same file', async () => {
    const text = readFileSync(SAMPLE, 'utf8');
    const cut = text.indexOf('\n', Math.floor(text.length / 2)) - 10; // mid-line
    const piped = await cli(
      ['--state-dir', join(work, 'stdin'), 'ingest', '-', '--json', '--quiet'],
      [text.slice(0, cut), text.slice(cut)],
    );
    expect(piped.code, piped.stderr).toBe(0);
    const fromFile = await cli(['--state-dir', join(work, 'file'), 'ingest', SAMPLE, '--json', '--quiet']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const a = JSON.parse(piped.stdout) as IngestSummary;
    const b = JSON.parse(fromFile.stdout) as IngestSummary;
    expect(a.file).toBe('-');
    const lines = text.split('\n').filter((l) => l.trim() !== '').length;
    expect(a.received).toBe(lines);
    expect(a.received).toBe(a.accepted + a.duplicates + a.rejected);
    for (const k of ['received', 'accepted', 'duplicates', 'rejected', 'rejected_by_reason'] as const)
      expect(a[k], k).toEqual(b[k]);
    expect(a.rejected_by_reason).toEqual({ invalid_json: 1, invalid_field: 1 });
  });
});

describe('exit codes', () => {
  it('exits 65 when the ETL data-quality gate fails, naming the failed check and printing the run', async () => {
    const state = join(work, 'gate');
    const lake = join(state, 'lake');
    const events = [
      ...generateShop({ seed: 3, events: 300, days: 2, end: Date.parse('2026-11-20T00:00:00Z') }).events(),
    ]
      .map((e) => parseEvent(e, { now: () => Date.parse('2026-11-21T00:00:00Z') }))
      .flatMap((r) => (r.ok ? [r.event] : []));
    const sample = events[0];
    if (!sample) throw new Error('the generated shop has no events');
    // Within the event contract (each line price ≤ 1e9) but an order total over the blocking
    // silver_orders_amount_range check's 1e9: silver takes it, the gate stops gold.
    const bad = {
      ...sample,
      event_id: 'too-expensive',
      event_type: 'purchase',
      session_id: 's-too-expensive',
      user_id: null,
      order_id: 'o-too-expensive',
      product_id: null,
      price: null,
      quantity: 1,
      items: [{ product_id: 'p-too-expensive', quantity: 2, price: 600_000_000 }],
    } as ShopEvent;
    writeLandingFiles(lake, [...events, bad]);
    const failed = await cli(['--state-dir', state, 'etl', '--quiet']);
    expect(failed.code, failed.stderr).toBe(65);
    expect(failed.stderr).toMatch(/data-quality gate failed, gold not updated: .*silver_orders_amount_range/);
    expect(failed.stdout).toContain('failed checks: silver_orders_amount_range');
  });
});

interface JsonError {
  error: { code: string; message: string; exit_code: number; [k: string]: unknown };
}

/** The one JSON document a failed `--json` command prints on stdout. */
function jsonError(r: Run): JsonError['error'] {
  const parsed = JSON.parse(r.stdout) as JsonError;
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(parsed.error.exit_code).toBe(r.code);
  expect(parsed.error.code).toMatch(/^[a-z]+(_[a-z]+)*$/);
  expect(r.stderr).toContain(parsed.error.message);
  return parsed.error;
}

describe('--json errors are JSON on stdout', () => {
  it('usage errors (exit 2)', async () => {
    const r = await cli(['--state-dir', join(work, 'never'), 'etl', '--date', '2026-13-45', '--json']);
    expect(r.code).toBe(2);
    const e = jsonError(r);
    expect(e).toMatchObject({ code: 'usage_error', commander_code: 'commander.invalidArgument' });
    expect(e.message).toContain('--date must be a calendar date YYYY-MM-DD, got "2026-13-45"');
  });

  it('a missing ingest file (exit 1), before the runtime starts', async () => {
    const r = await cli([
      '--state-dir',
      join(work, 'never'),
      'ingest',
      join(work, 'no-such.ndjson'),
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(jsonError(r)).toMatchObject({ code: 'failure', system_code: 'ENOENT' });
    expect(r.stderr).not.toContain('emulators');
  });

  it('a query outside the catalog (exit 1)', async () => {
    const r = await cli([
      '--state-dir',
      join(work, 'query'),
      'query',
      'SELECT * FROM gold.passwords',
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(jsonError(r)).toMatchObject({ code: 'unknown_table', table: 'gold.passwords' });
  });

  it('a failed data-quality gate (exit 65) with the failed checks', async () => {
    // The state of the exit-code test above: its pending run still holds the bad record.
    const r = await cli(['--state-dir', join(work, 'gate'), 'etl', '--json', '--quiet']);
    expect(r.code).toBe(65);
    const e = jsonError(r);
    expect(e).toMatchObject({ code: 'data_quality_gate_failed', failure: 'DataQualityGateFailed' });
    expect((e.failed_checks as { check_name: string }[]).map((c) => c.check_name)).toContain(
      'silver_orders_amount_range',
    );
  });
});

describe('shoplake models rollback', () => {
  it('names an unknown version and what can be rolled back to (exit 1, like an unknown table)', async () => {
    const r = await cli(['--state-dir', join(work, 'models'), 'models', 'rollback', 'v-nope', '--json']);
    expect(r.code).toBe(1);
    expect(jsonError(r)).toEqual({
      code: 'unknown_model_version',
      message:
        'model version "v-nope" does not exist in the registry; no published model yet (run shoplake train or shoplake demo)',
      exit_code: 1,
      version: 'v-nope',
      available_versions: [],
    });
  });

  it('refuses a malformed version as a usage error before starting anything (exit 2)', async () => {
    const r = await cli(['--state-dir', join(work, 'never'), 'models', 'rollback', 'not a version']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('model version must be 1-64 characters of A-Za-z0-9._:-, got "not a version"');
    expect(r.stderr).not.toContain('emulators');
  });
});

describe('progress bars only on a terminal', () => {
  /** Runs the CLI on a pseudo-terminal (util-linux `script`), as a person at a shell would. */
  function onTerminal(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return new Promise((resolve, reject) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        env: { ...process.env, CI: '', TERM: 'xterm', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('error', (e) =>
        reject(
          new Error(`util-linux \`script\` is needed for this test (apt-get install bsdutils): ${e.message}`),
        ),
      );
      const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 1, stdout: out, stderr: '' });
      });
    });
  }
  const ESC = String.fromCharCode(27); // terminal control sequences start with it
  const BAR = /ingest \[[=-]+\] 100% \| 302\/302 events \| [\d,]+\/s \| ETA/;

  it('draws counts, rate and ETA for ingest on a terminal', async () => {
    const r = await onTerminal(['--state-dir', join(work, 'tty'), 'ingest', SAMPLE]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(BAR);
  });

  it('stays silent when piped, with --json, --quiet or in CI: the plain lines are unchanged', async () => {
    const piped = await cli(['--state-dir', join(work, 'tty'), 'ingest', SAMPLE]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toContain('ingest: 302 sent; waiting for the consumer');
    expect(piped.stderr).not.toContain(ESC);
    expect(piped.stderr).not.toMatch(/\r|events \|/);
    const etl = await cli(['--state-dir', join(work, 'tty'), 'etl']);
    expect(etl.code, etl.stderr).toBe(0);
    expect(etl.stderr).not.toContain(ESC);
    expect(etl.stderr).not.toMatch(/\r|tasks \|/);
    for (const [extra, env] of [
      [['--json'], {}],
      [['--quiet'], {}],
      [[], { CI: 'true' }],
      [[], { TERM: 'dumb' }],
    ] as const) {
      const r = await onTerminal(['--state-dir', join(work, 'tty'), 'ingest', SAMPLE, ...extra], env);
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout, `${extra.join(' ')} ${JSON.stringify(env)}`).not.toMatch(/events \|/);
    }
  });
});
