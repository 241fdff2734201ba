/**
 * `shoplake etl`, `shoplake query` and `shoplake tables` through the CLI entry point, on a
 * state directory holding landed events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent, type ShopEvent } from '../../lambdas/shared/event-schema.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { writeLandingFiles } from '../../local/sfn/landing.ts';
import { cli } from './helpers/cli.ts';

describe('shoplake etl / query / tables', () => {
  let stateDir: string;

  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'shoplake-cli-'));
    const shop = generateShop({ seed: 5, events: 2_000, days: 3, end: Date.parse('2026-11-20T00:00:00Z') });
    const events: ShopEvent[] = [];
    for (const e of shop.events()) {
      const r = parseEvent(e, { now: () => Date.parse('2026-11-21T00:00:00Z') });
      if (r.ok) events.push(r.event);
    }
    writeLandingFiles(join(stateDir, 'lake'), events);
  });

  afterAll(() => {
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('runs the ETL and reports it as JSON', async () => {
    const r = await cli(['--state-dir', stateDir, 'etl', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { status: string; landing: { rows: number } };
    expect(summary.status).toBe('SUCCEEDED');
    expect(summary.landing.rows).toBe(2_000);
  });

  it('queries gold tables, as a table or JSON', async () => {
    const json = await cli([
      '--state-dir',
      stateDir,
      'query',
      'SELECT sum(orders) AS orders FROM gold.daily_sales',
      '--json',
    ]);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as { rows: { orders: number }[] };
    expect(parsed.rows[0]?.orders).toBeGreaterThan(0);
    const text = await cli([
      '--state-dir',
      stateDir,
      'query',
      'SELECT month, orders FROM gold.monthly_kpis WHERE month >= CAST(:m AS date)',
      '--param',
      'm=2026-11-01',
    ]);
    expect(text.stdout).toMatch(/^month\s+orders\n-+/);
    expect(text.stdout).toContain('2026-11-01');
  });

  it('refuses a table outside the catalog with a clear error and exit code 1', async () => {
    const r = await cli(['--state-dir', stateDir, 'query', 'SELECT * FROM gold.passwords']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown table "gold.passwords": not in the lake catalog');
  });

  it('lists the tables with snapshot, rows and files', async () => {
    const r = await cli(['--state-dir', stateDir, 'tables', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { tables } = JSON.parse(r.stdout) as {
      tables: { table: string; snapshotId: number | null; rows: number; files: number }[];
    };
    const bronze = tables.find((t) => t.table === 'bronze.events');
    expect(bronze?.rows).toBe(2_000);
    expect(bronze?.files).toBeGreaterThan(0);
    expect(typeof bronze?.snapshotId).toBe('number');
  });
});
