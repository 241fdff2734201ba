/**
 * The local lake under ordinary faults (issue 16): two `shoplake etl` on one state directory,
 * a table whose metadata is gone, writes through `shoplake query`, and a state directory moved
 * with `mv`. Each must end with the lake intact and a clear message.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent, type ShopEvent } from '../../lambdas/shared/event-schema.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { STATE_DIR_IN_USE_EXIT_CODE } from '../../local/runtime/state-dir.ts';
import { writeLandingFiles } from '../../local/sfn/landing.ts';
import { cli } from './helpers/cli.ts';

const BIN = join(import.meta.dirname, '../../bin/shoplake.mjs');

/** `shoplake` as its own process (what a user or a scheduler starts). */
function cliProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { timeout: 240_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function landedStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shoplake-robust-'));
  const shop = generateShop({ seed: 11, events: 1_500, days: 3, end: Date.parse('2026-11-20T00:00:00Z') });
  const events: ShopEvent[] = [];
  for (const e of shop.events()) {
    const r = parseEvent(e, { now: () => Date.parse('2026-11-21T00:00:00Z') });
    if (r.ok) events.push(r.event);
  }
  writeLandingFiles(join(dir, 'lake'), events);
  return dir;
}

interface Listed {
  table: string;
  status: string;
  rows: number | null;
  error?: string;
}

async function tables(stateDir: string): Promise<Listed[]> {
  const r = await cli(['--state-dir', stateDir, 'tables', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { tables: Listed[] }).tables;
}

/** Row count per table, minus the ETL's own run log (one row per run by design). */
const counts = (list: Listed[]) =>
  Object.fromEntries(list.filter((t) => !t.table.startsWith('ops.etl_run')).map((t) => [t.table, t.rows]));

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('one ETL at a time on a state directory', () => {
  it('refuses the second of two `shoplake etl` started together; the data equals a single run', async () => {
    const single = landedStateDir();
    const racing = join(mkdtempSync(join(tmpdir(), 'shoplake-race-')), 'state');
    dirs.push(single, join(racing, '..'));
    cpSync(single, racing, { recursive: true });

    const [a, b] = await Promise.all([
      cliProcess(['--state-dir', racing, 'etl', '--json', '--quiet']),
      cliProcess(['--state-dir', racing, 'etl', '--json', '--quiet']),
    ]);
    const codes = [a.code, b.code].sort();
    expect(codes, `${a.stderr}\n${b.stderr}`).toEqual([0, STATE_DIR_IN_USE_EXIT_CODE]);
    const refused = a.code === 0 ? b : a;
    expect(refused.stderr).toMatch(
      /state directory .* is in use by another shoplake process \(pid \d+, etl\)/,
    );

    const reference = await cli(['--state-dir', single, 'etl', '--json', '--quiet']);
    expect(reference.code, reference.stderr).toBe(0);
    const want = counts(await tables(single));
    expect(Object.values(want).some((n) => (n ?? 0) > 0)).toBe(true);
    expect(counts(await tables(racing))).toEqual(want);
  });
});

describe('a lake with faults', () => {
  let stateDir: string;

  beforeAll(async () => {
    stateDir = landedStateDir();
    dirs.push(stateDir);
    const r = await cli(['--state-dir', stateDir, 'etl', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('isolates a table whose latest metadata file is missing: other tables work, the error names it', async () => {
    const metaDir = join(stateDir, 'lake', 'warehouse', 'gold.db', 'daily_sales', 'metadata');
    const latest = readdirSync(metaDir)
      .filter((f) => /^v\d+\.metadata\.json$/.test(f))
      .sort((x, y) => Number(x.slice(1).split('.')[0]) - Number(y.slice(1).split('.')[0]))
      .at(-1);
    const file = join(metaDir, latest ?? '');
    const saved = readFileSync(file);
    rmSync(file);
    try {
      const other = await cli([
        '--state-dir',
        stateDir,
        'query',
        'SELECT count(*) AS n FROM silver.orders',
        '--json',
      ]);
      expect(other.code, other.stderr).toBe(0);
      expect((JSON.parse(other.stdout) as { rows: { n: number }[] }).rows[0]?.n).toBeGreaterThan(0);

      const broken = await cli([
        '--state-dir',
        stateDir,
        'query',
        'SELECT sum(orders) FROM gold.daily_sales',
      ]);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain('gold.daily_sales');
      expect(broken.stderr).toContain(file);

      const listed = await tables(stateDir);
      const bad = listed.find((t) => t.table === 'gold.daily_sales');
      expect(bad?.status).toBe('damaged');
      expect(bad?.error).toContain(file);
      expect(listed.filter((t) => t.status !== 'ok').map((t) => t.table)).toEqual(['gold.daily_sales']);
      expect(listed.find((t) => t.table === 'silver.orders')?.rows).toBeGreaterThan(0);
    } finally {
      writeFileSync(file, saved);
    }
    const repaired = await cli([
      '--state-dir',
      stateDir,
      'query',
      'SELECT sum(orders) AS n FROM gold.daily_sales',
    ]);
    expect(repaired.code, repaired.stderr).toBe(0);
  });

  it('keeps `shoplake query` read-only, checked by the parser, and still answers SHOW / DESCRIBE / EXPLAIN', async () => {
    const before = (await tables(stateDir)).find((t) => t.table === 'gold.cancellations');
    for (const sql of [
      'DELETE FROM gold.cancellations',
      'INSERT INTO gold.cancellations SELECT * FROM gold.cancellations',
      'SELECT 1; DELETE FROM gold.cancellations',
      'VACUUM gold.cancellations',
    ]) {
      const r = await cli(['--state-dir', stateDir, 'query', sql]);
      expect(r.code, sql).toBe(1);
      expect(r.stderr, sql).toMatch(/read-only|one statement/);
    }
    const after = (await tables(stateDir)).find((t) => t.table === 'gold.cancellations');
    expect(after).toEqual(before);

    const show = await cli(['--state-dir', stateDir, 'query', 'SHOW TABLES FROM gold', '--json']);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout).rows).toContainEqual({ Table: 'gold.cancellations' });
    const describe = await cli(['--state-dir', stateDir, 'query', 'DESCRIBE gold.daily_sales', '--json']);
    expect(describe.code, describe.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(describe.stdout).rows)).toContain('orders');
    const explain = await cli([
      '--state-dir',
      stateDir,
      'query',
      'EXPLAIN SELECT count(*) FROM gold.daily_sales',
    ]);
    expect(explain.code, explain.stderr).toBe(0);
    const withq = await cli([
      '--state-dir',
      stateDir,
      'query',
      'WITH d AS (SELECT orders FROM gold.daily_sales) SELECT count(*) AS n FROM d',
      '--json',
    ]);
    expect(withq.code, withq.stderr).toBe(0);
  });

  it('works after the state directory is moved with mv and `shoplake relocate` (query and etl)', async () => {
    const query = 'SELECT count(*) AS n, sum(orders) AS orders FROM gold.daily_sales';
    const before = await cli(['--state-dir', stateDir, 'query', query, '--json']);
    expect(before.code, before.stderr).toBe(0);
    const moved = `${stateDir}-moved`;
    renameSync(stateDir, moved);
    dirs.push(moved);

    const stale = await cli(['--state-dir', moved, 'query', query]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/shoplake relocate/);

    const relocated = await cli(['--state-dir', moved, 'relocate', '--json']);
    expect(relocated.code, relocated.stderr).toBe(0);
    expect((JSON.parse(relocated.stdout) as { relocated: number }).relocated).toBeGreaterThan(10);
    const again = await cli(['--state-dir', moved, 'relocate', '--json']);
    expect((JSON.parse(again.stdout) as { relocated: number }).relocated).toBe(0);

    const after = await cli(['--state-dir', moved, 'query', query, '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout).rows).toEqual(JSON.parse(before.stdout).rows);
    const etl = await cli(['--state-dir', moved, 'etl', '--json', '--quiet']);
    expect(etl.code, etl.stderr).toBe(0);
    const later = await cli(['--state-dir', moved, 'query', query, '--json']);
    expect(JSON.parse(later.stdout).rows).toEqual(JSON.parse(before.stdout).rows);
    // No file of the lake names the old location any more.
    const metadata = readFileSync(
      join(moved, 'lake', 'warehouse', 'gold.db', 'daily_sales', 'metadata', 'version-hint.text'),
      'utf8',
    );
    const latest = readFileSync(
      join(
        moved,
        'lake',
        'warehouse',
        'gold.db',
        'daily_sales',
        'metadata',
        `v${metadata.trim()}.metadata.json`,
      ),
      'utf8',
    );
    expect(latest).not.toContain(`${stateDir}/`);
    expect(latest).toContain(moved);
  });
});
