/**
 * The `shoplake` CLI as a user runs it (a child process of `bin/shoplake.mjs`): `ingest` of an
 * NDJSON file with bad lines (twice, on persisted state), `ingest --format online-retail`,
 * and `demo --no-serve --json`. Checks the JSON contract on stdout and the accounting identity.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateShop } from '../../local/generator/shop.ts';
import { deleteExternalResources, EXTERNAL, testNamePrefix } from './helpers/external.ts';

const BIN = fileURLToPath(new URL('../../bin/shoplake.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'shoplake-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Each test's CLI runs share one name prefix: unique per test on an external endpoint, deleted after it. */
let namePrefix = 'shoplake';
beforeEach(() => {
  namePrefix = testNamePrefix('cli', 'shoplake');
});
afterEach(async () => {
  await deleteExternalResources(namePrefix);
});

interface Summary {
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  rejected_by_reason: Record<string, number>;
  online_retail?: {
    csv_records: number;
    lines_in_events_passed_ingest: number;
    lines_in_events_rejected_at_ingest: number;
  };
}

function cli(args: string[], timeoutMs = 180_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        env: EXTERNAL ? { ...process.env, SHOPLAKE_NAME_PREFIX: namePrefix } : process.env,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function expectBalanced(s: Summary): void {
  expect(s.received).toBe(s.accepted + s.duplicates + s.rejected);
  expect(Object.values(s.rejected_by_reason).reduce((a, b) => a + b, 0)).toBe(s.rejected);
}

if (EXTERNAL) console.warn('realtime-cli.test.ts runs the CLI against the external endpoint as well');

describe('shoplake CLI on the local runtime', () => {
  it('ingests NDJSON with bad lines, accounts for every line, and counts a replay as duplicates', async () => {
    const state = join(work, 'ndjson-state');
    const file = join(work, 'events.ndjson');
    const good = [...generateShop({ seed: 4, events: 300 }).events()].map((e) => JSON.stringify(e));
    const bad = [
      '{"event_id": "truncated',
      '[1, 2, 3]',
      JSON.stringify({
        event_id: 'USER#a#ITEM#b',
        event_type: 'page_view',
        event_time: '2026-11-20T10:00:00Z',
        session_id: 's',
      }),
      JSON.stringify({
        event_id: 'q0',
        event_type: 'purchase',
        event_time: '2026-11-20T10:00:00Z',
        session_id: 's',
        order_id: 'o',
        items: [{ product_id: 'p', quantity: 0, price: 1 }],
      }),
    ];
    writeFileSync(file, `${[...good.slice(0, 100), ...bad, ...good.slice(100)].join('\n')}\n\n`);
    const unique = new Set(good.map((l) => (JSON.parse(l) as { event_id: string }).event_id)).size;

    const first = await cli(['--state-dir', state, 'ingest', file, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const s1 = JSON.parse(first.stdout) as Summary;
    expectBalanced(s1);
    expect(s1.received).toBe(304);
    expect(s1.accepted).toBe(unique);
    expect(s1.duplicates).toBe(300 - unique);
    expect(s1.rejected_by_reason).toEqual({ invalid_json: 1, not_an_object: 1, invalid_field: 2 });
    expect(first.stderr).toContain('ingest:');

    const second = await cli(['--state-dir', state, 'ingest', file, '--json']);
    expect(second.code, second.stderr).toBe(0);
    const s2 = JSON.parse(second.stdout) as Summary;
    expectBalanced(s2);
    expect(s2.accepted).toBe(0);
    expect(s2.duplicates).toBe(300);
    expect(s2.rejected).toBe(4);
  });

  it('maps the UCI online-retail format, cancellations and bad lines included', async () => {
    const file = join(work, 'retail.csv');
    writeFileSync(
      file,
      [
        'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
        '536365,85123A,"HEART, WHITE",6,2011-06-01 08:26:00,2.55,17850,United Kingdom',
        '536365,71053,"LANTERN ""METAL""",6,2011-06-01 08:26:00,3.39,17850,United Kingdom',
        'C536379,D,Discount,-1,2011-06-01 09:41:00,27.50,14527,United Kingdom',
        '536380,22000,ANON,2,2011-06-01 10:00:00,1.25,,France',
        '536381,85067,DAMAGED,-6,2011-06-01 11:00:00,0,,United Kingdom',
      ].join('\n'),
    );
    const run = await cli([
      '--state-dir',
      join(work, 'uci-state'),
      'ingest',
      file,
      '--format',
      'online-retail',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const s = JSON.parse(run.stdout) as Summary;
    expectBalanced(s);
    expect(s).toMatchObject({
      received: 4,
      accepted: 3,
      duplicates: 0,
      rejected: 1,
      rejected_by_reason: { invalid_field: 1 },
    });
    expect(s.online_retail).toMatchObject({
      csv_records: 5,
      lines_in_events_passed_ingest: 4,
      lines_in_events_rejected_at_ingest: 1,
    });
  });

  it('runs the demo without serving and prints a JSON summary with real-time features', async () => {
    const run = await cli(
      ['--state-dir', join(work, 'demo-state'), 'demo', '--events', '1500', '--no-serve', '--json'],
      300_000,
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      stages: {
        ingest: Summary & {
          features: { revenue_per_window: { orders: number }[]; trending: { products: unknown[] }[] };
          landing: { records: number };
        };
      };
    };
    const ingest = summary.stages.ingest;
    expectBalanced(ingest);
    expect(ingest.received).toBe(1500);
    expect(ingest.accepted).toBeGreaterThan(1400);
    expect(ingest.landing.records).toBe(1500);
    expect(ingest.features.revenue_per_window.some((w) => w.orders > 0)).toBe(true);
    expect(ingest.features.trending.some((t) => t.products.length > 0)).toBe(true);
  });
});
