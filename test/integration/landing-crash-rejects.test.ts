/**
 * Landing → bronze loses no rejected record when the process dies while it commits them
 * (docs/lakehouse.md, "Landing → bronze"): every rejected record of a load — the typed read's
 * and the line check's — goes to `ops.rejected_events` in one Iceberg commit, and recovery
 * adds a file's rejected records exactly when that table holds none of that file.
 *
 * Each case SIGKILLs a child ETL process at one moment around that commit (bronze committed,
 * rejected records not; their data files written, metadata not published; published, version
 * hint not updated; committed, files not yet moved), then one run in this process finishes, and
 * the whole lake (every bronze/silver/gold/ops table, minus run ids, load ids and run
 * timestamps) must equal a clean run's on the same input.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAKE_PREFIXES } from '../../infra/definitions/resources.ts';
import { qualifiedName, TABLES } from '../../lambdas/shared/catalog/index.ts';
import { parseEvent, type ShopEvent } from '../../lambdas/shared/event-schema.ts';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';
import { FAULT_POINT_ENV } from '../../local/fault-points.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { runLocalEtl } from '../../local/sfn/etl-runner.ts';
import { writeLandingFiles } from '../../local/sfn/landing.ts';

const NOW = new Date('2026-11-21T00:00:00Z');
/** Maintenance does not change rows: left to Glue (skipped) to keep the time down. */
const INPUT = { full: true, glueTableOptimizers: true };
const CHILD = join(import.meta.dirname, 'helpers', 'etl-child.ts');
/** Columns naming a run or its wall clock; `source_file` loses its load id below. */
const RUN_COLUMNS = new Set(['etl_run_id', 'run_id', 'checked_at', 'registered_at', 'marked_at']);
/** Per-run logs: the quality results of the finishing run and the idle marks differ by design. */
const PER_RUN_TABLES = new Set(['ops.data_quality_results', 'ops.etl_runs']);

async function lakeState(lake: string): Promise<Record<string, string[]>> {
  const engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
  try {
    const out: Record<string, string[]> = {};
    for (const t of TABLES.filter((x) => ['bronze', 'silver', 'gold', 'ops'].includes(x.namespace))) {
      const name = qualifiedName(t);
      if (PER_RUN_TABLES.has(name)) continue;
      const rows = await engine.query(`SELECT * FROM ${name}`);
      out[name] = rows
        .map((r) =>
          JSON.stringify(
            Object.entries(r)
              .filter(([k]) => !RUN_COLUMNS.has(k))
              // `<loadId>/event_date=…/part….jsonl`: the load id names the load, not the data
              .map(([k, v]) => [
                k,
                k === 'source_file' && typeof v === 'string' ? v.replace(/^[^/]+\//, '') : v,
              ]),
          ),
        )
        .sort();
    }
    return out;
  } finally {
    await engine.close();
  }
}

function runChild(
  lake: string,
  faultPoint: string,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', CHILD, lake, '-', JSON.stringify(INPUT), NOW.toISOString()],
      {
        timeout: 240_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, [FAULT_POINT_ENV]: faultPoint },
      },
      (_error, _stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, stderr }),
    );
  });
}

async function finish(lake: string): Promise<void> {
  const engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
  try {
    const run = await runLocalEtl({ engine, lakeDir: lake, input: INPUT as never, now: () => NOW });
    expect(run.status).toBe('SUCCEEDED');
  } finally {
    await engine.close();
  }
}

describe('a crash while landing commits rejected records loses none and adds none twice', () => {
  let work: string;
  let landed: string;
  let clean: Record<string, string[]>;
  let rejectedLines = 0;
  let sameDay: ShopEvent[] = [];
  let caseNo = 0;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'shoplake-landing-crash-'));
    landed = join(work, 'landed');
    mkdirSync(landed, { recursive: true });
    const shop = generateShop({
      seed: 41,
      events: 800,
      users: 60,
      products: 30,
      days: 10,
      end: NOW.getTime() - 86_400_000,
    });
    const good: ShopEvent[] = [];
    for (const e of shop.events()) {
      const r = parseEvent(e, { now: () => NOW.getTime() });
      if (r.ok) good.push(r.event);
    }
    writeLandingFiles(landed, good.slice(0, 500), { part: 'part-00001.jsonl' });
    // One file mixing valid lines with poison lines (the line check rejects them, with file and
    // line) and one contract violation that only the line check sees (an unknown field type).
    const first = good[500] as ShopEvent;
    const day = first.event_time.slice(0, 10);
    sameDay = good.slice(500).filter((e) => e.event_time.startsWith(day));
    const file = join(landed, LAKE_PREFIXES.landingEvents, `event_date=${day}`, 'part-00002.jsonl');
    const poison = [
      JSON.stringify({ ...first, event_id: 'crash-trunc' }).slice(0, 50),
      JSON.stringify({ ...first, event_id: 'crash-surrogate', event_type: 'search', query: 'QQ' }).replace(
        'QQ',
        '\\ud800',
      ),
      JSON.stringify({ ...first, event_id: 'crash-type', price: 'abc' }),
      JSON.stringify({
        ...first,
        event_id: 'crash-deep',
        x: JSON.parse(`${'['.repeat(40)}1${']'.repeat(40)}`),
      }),
    ];
    rejectedLines = poison.length;
    const lines: string[] = [];
    sameDay.forEach((e, i) => {
      lines.push(JSON.stringify(e));
      if (i < poison.length) lines.push(poison[i] as string);
    });
    appendFileSync(file, `${lines.join('\n')}\n`);
    const lake = join(work, 'clean');
    cpSync(landed, lake, { recursive: true });
    await finish(lake);
    clean = await lakeState(lake);
    expect(clean['ops.rejected_events']).toHaveLength(rejectedLines);
    expect(clean['bronze.events']?.length).toBe(500 + sameDay.length);
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it.each([
    'landing:bronze-committed',
    'iceberg:before-link:ops.rejected_events',
    'iceberg:after-link:ops.rejected_events',
    'landing:rejected-committed',
  ])(
    'SIGKILL at %s, then one run: the lake a clean run gives (every rejected line once)',
    async (point) => {
      const lake = join(work, `case-${++caseNo}`);
      cpSync(landed, lake, { recursive: true });
      const child = await runChild(lake, point);
      expect(child.signal, `exit ${child.code}: ${child.stderr.slice(-2000)}`).toBe('SIGKILL');
      await finish(lake);
      const state = await lakeState(lake);
      expect(state['ops.rejected_events']).toEqual(clean['ops.rejected_events']);
      expect(state).toEqual(clean);
      rmSync(lake, { recursive: true, force: true });
    },
    600_000,
  );
});
