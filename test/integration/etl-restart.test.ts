/**
 * Restartable, exactly-once ETL (docs/lakehouse.md, "Incremental contract"): whatever stops a
 * run — a crash (SIGKILL of the ETL process) before any state of the state machine or at a
 * point inside a step, an injected failure of any task, a failed blocking quality gate — the
 * next run finishes exactly the pending work, and every bronze/silver/gold/ops table (minus
 * run ids, timestamps of the run and load ids) equals a clean run's on the same input.
 *
 * One clean-run baseline is shared by every case; each case starts from a fresh copy of the
 * landed input. Small input (a few thousand events) and maintenance skipped except for the
 * kill inside the maintenance Map keep the file's time modest.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEtlDefinition } from '../../lambdas/etl/asl.ts';
import { qualifiedName, TABLES } from '../../lambdas/shared/catalog/index.ts';
import { parseEvent, type ShopEvent } from '../../lambdas/shared/event-schema.ts';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';
import { FAULT_POINT_ENV } from '../../local/fault-points.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { EtlRunFailedError, type LocalEtlResult, runLocalEtl } from '../../local/sfn/etl-runner.ts';
import { writeLandingFiles } from '../../local/sfn/landing.ts';

const NOW = new Date('2026-11-21T00:00:00Z');
/** Maintenance (OPTIMIZE/VACUUM) does not change rows: skipped except where it is the point. */
const FAST_INPUT = { full: true, glueTableOptimizers: true };
const FULL_INPUT = { full: true };
/** A chain is ~10 runs: generous on a loaded 2-core machine (about 1-2 min when idle). */
const CHAIN_TIMEOUT_MS = 1_200_000;
const CHILD = join(import.meta.dirname, 'helpers', 'etl-child.ts');

/**
 * Columns that name a run, a load or the wall clock of a run: not part of the data. Doubles are
 * compared to 12 significant digits: a sum of doubles depends on the order rows are read in
 * (money becomes decimal with the lake-data change, and is then exact).
 */
const RUN_COLUMNS = new Set(['etl_run_id', 'run_id', 'checked_at', 'registered_at', 'source_file']);

function shopEvents(): ShopEvent[] {
  const shop = generateShop({
    seed: 5,
    events: 2_500,
    users: 120,
    products: 60,
    days: 45,
    end: NOW.getTime() - 86_400_000,
  });
  const out: ShopEvent[] = [];
  for (const e of shop.events()) {
    const r = parseEvent(e, { now: () => NOW.getTime() });
    if (r.ok) out.push(r.event);
  }
  return out;
}

/** A lake state without the per-run quality log, when the last run had nothing left to check. */
function withoutChecksIf(drop: boolean, state: Record<string, string[]>): Record<string, string[]> {
  if (!drop) return state;
  return Object.fromEntries(Object.entries(state).filter(([k]) => k !== 'ops.data_quality_results'));
}

/** Every row of every bronze/silver/gold/ops table, run columns removed, sorted. */
async function lakeState(engine: DuckdbEngine, lastRunId: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of TABLES.filter((x) => ['bronze', 'silver', 'gold', 'ops'].includes(x.namespace))) {
    const name = qualifiedName(t);
    // What each run read (the idle check's marks) is a per-run log too: a crashed run that got
    // past MarkRun leaves its row. Its use is tested by the idle cases below.
    if (name === 'ops.etl_runs') continue;
    // Quality results are a per-run log: compare the checks of the run that finished the work.
    const rows =
      name === 'ops.data_quality_results'
        ? await engine.query(`SELECT * FROM ${name} WHERE run_id = :id`, { id: lastRunId })
        : await engine.query(`SELECT * FROM ${name}`);
    out[name] = rows
      .map((r) =>
        JSON.stringify(
          Object.entries(r)
            .filter(([k]) => !RUN_COLUMNS.has(k))
            .map(([k, v]) => [
              k,
              typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v,
            ]),
        ),
      )
      .sort();
  }
  return out;
}

/** The tables whose rows differ, with a few differing rows each (readable failures). */
function differences(
  actual: Record<string, string[]>,
  expected: Record<string, string[]>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of new Set([...Object.keys(actual), ...Object.keys(expected)])) {
    const a = actual[name] ?? [];
    const e = expected[name] ?? [];
    if (JSON.stringify(a) === JSON.stringify(e)) continue;
    const eSet = new Set(e);
    const aSet = new Set(a);
    out[name] = {
      rows: [a.length, e.length],
      unexpected: a.filter((r) => !eSet.has(r)).slice(0, 3),
      missing: e.filter((r) => !aSet.has(r)).slice(0, 3),
    };
  }
  return out;
}

/** Task states of the generated definition, in order (branches and the Map included). */
function taskStates(): string[] {
  const out: string[] = [];
  type S = {
    Type: string;
    Resource?: string;
    Branches?: { States: Record<string, S> }[];
    ItemProcessor?: { States: Record<string, S> };
  };
  const walk = (states: Record<string, S>) => {
    for (const [name, s] of Object.entries(states)) {
      // (the notifications and the release after a failure run only on the failure path; the
      // Glue extract jobs only for a run with batch sources, which these runs have none of)
      if (
        s.Type === 'Task' &&
        !name.startsWith('Notify') &&
        name !== 'ReleaseLeaseAfterFailure' &&
        s.Resource !== 'arn:aws:states:::glue:startJobRun.sync'
      )
        out.push(name);
      for (const b of s.Branches ?? []) walk(b.States);
      if (s.ItemProcessor) walk(s.ItemProcessor.States);
    }
  };
  walk((generateEtlDefinition() as { States: Record<string, S> }).States);
  return out;
}

function runChild(
  lake: string,
  killState: string,
  input: object,
  faultPoint?: string,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', CHILD, lake, killState, JSON.stringify(input), NOW.toISOString()],
      {
        timeout: 240_000,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, ...(faultPoint ? { [FAULT_POINT_ENV]: faultPoint } : {}) },
      },
      (_error, _stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, stderr }),
    );
  });
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function withEngine<T>(lake: string, fn: (engine: DuckdbEngine) => Promise<T>): Promise<T> {
  const engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

async function run(engine: DuckdbEngine, lake: string, input: object = FAST_INPUT): Promise<LocalEtlResult> {
  return runLocalEtl({ engine, lakeDir: lake, input: input as never, now: () => NOW });
}

describe('restartable ETL: crash or fail anywhere, rerun, same lake as a clean run', () => {
  let work: string;
  let landed: string;
  let clean: Record<string, string[]>;
  let caseNo = 0;
  const states = taskStates();

  const freshLake = (): string => {
    const lake = join(work, `case-${++caseNo}`);
    cpSync(landed, lake, { recursive: true });
    return lake;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'shoplake-etl-restart-'));
    landed = join(work, 'landed');
    mkdirSync(landed, { recursive: true });
    const events = shopEvents();
    // two deliveries, a re-sent event and a record silver rejects (unknown event type)
    writeLandingFiles(landed, events.slice(0, 1_500), { part: 'part-00001.jsonl' });
    writeLandingFiles(landed, [...events.slice(1_500), events[10] as ShopEvent], {
      part: 'part-00002.jsonl',
    });
    writeLandingFiles(
      landed,
      [{ ...(events[20] as ShopEvent), event_id: 'bogus-1', event_type: 'bogus' as never }],
      {
        part: 'part-00003.jsonl',
      },
    );
    const lake = freshLake();
    clean = await withEngine(lake, async (engine) => {
      const result = await run(engine, lake);
      expect(result.status).toBe('SUCCEEDED');
      const state = await lakeState(engine, result.run?.run_id ?? '');
      // A clean rerun commits nothing to bronze, silver or gold and leaves nothing pending.
      const before = await engine.describeTables();
      const again = await run(engine, lake);
      const after = await engine.describeTables();
      // ... and is idle: no statement between the extract summary and CompleteRun runs.
      expect(again.extractSummary?.idle).toBe('true');
      expect(again.steps.map((s) => s.state)).toEqual(['RegisterRun', 'Extract', 'CompleteRun']);
      const dataSnapshots = (ts: typeof before) =>
        ts.filter((t) => /^(bronze|silver|gold)\./.test(t.table)).map((t) => [t.table, t.snapshotId]);
      expect(dataSnapshots(after)).toEqual(dataSnapshots(before));
      // (its own quality results differ: it had no new rows to check)
      const { 'ops.data_quality_results': _checks, ...rest } = await lakeState(
        engine,
        again.run?.run_id ?? '',
      );
      const { 'ops.data_quality_results': _cleanChecks, ...cleanRest } = state;
      expect(differences(rest, cleanRest)).toEqual({});
      return state;
    });
    expect(clean['silver.events']?.length).toBeGreaterThan(2_000);
    expect(clean['gold.daily_sales']?.length).toBeGreaterThan(10);
    expect(clean['ops.rejected_events']?.length).toBe(1);
    expect(clean['ops.etl_pending']).toEqual([]);
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('covers every task state of the state machine', () => {
    expect(states.length).toBeGreaterThanOrEqual(30);
    for (const s of [
      'PrepareRun',
      'RegisterRun',
      'Extract',
      'SilverEvents',
      'QualityGateResults',
      'GoldDailySales',
      'CompleteRun',
      'Optimize',
    ])
      expect(states).toContain(s);
  });

  // The points inside steps come first: only the first runs of a chain still have landing files
  // to claim and silver/gold rows to write.
  const killPoints: [string, string | undefined][] = [
    ['-', 'landing:moved'],
    ['-', 'landing:bronze-committed'],
    ['-', 'iceberg:before-link:silver.events'],
    ['-', 'iceberg:after-link:silver.sessions'],
    ['-', 'iceberg:before-link:gold.monthly_kpis'],
    ...states.map((s): [string, string | undefined] => [s, undefined]),
  ];
  const label = ([state, point]: [string, string | undefined]) =>
    point ? `inside (${point})` : `before ${state}`;

  /**
   * Crashes are chained to keep the time modest: on one lake, run i is SIGKILLed at point i
   * (every run redoes what the crashed ones left pending), and a final run must then reach
   * the clean state. Every point is crossed by a crash at least once, with real pending work.
   */
  // A kill after CompleteRun leaves the data complete, so the next run of a chain would be idle
  // and never reach maintenance: those points each get a fresh lake (a chain of one).
  const afterComplete = ([s]: [string, string | undefined]) =>
    states.indexOf(s) > states.indexOf('CompleteRun');
  const chained = killPoints.filter((p) => !afterComplete(p));
  const killChains = [
    ...chunk(chained, Math.ceil(chained.length / 4)),
    ...killPoints.filter(afterComplete).map((p) => [p]),
  ];
  it.each(killChains.map((c) => [c.map(label).join(', '), c] as const))(
    'SIGKILL %s, then one rerun: clean state',
    async (_labels, chain) => {
      const lake = freshLake();
      const maintenance = chain.some(([s]) => s === 'Optimize' || s === 'Vacuum');
      const input = maintenance ? FULL_INPUT : FAST_INPUT;
      for (const [killState, faultPoint] of chain) {
        const child = await runChild(lake, killState, input, faultPoint);
        expect(
          child.signal,
          `${label([killState, faultPoint])}: exit ${child.code}: ${child.stderr.slice(-2000)}`,
        ).toBe('SIGKILL');
      }
      const state = await withEngine(lake, async (engine) => {
        const rerun = await run(engine, lake, input);
        expect(rerun.status).toBe('SUCCEEDED');
        return lakeState(engine, rerun.run?.run_id ?? '');
      });
      // Killed after CompleteRun: the data was complete, so the final run had nothing to do and
      // its own quality results (0 new rows) differ from a working run's (as for failures below).
      const last = chain.at(-1)?.[0] ?? '-';
      const completed = states.indexOf(last) > states.indexOf('CompleteRun');
      expect(differences(withoutChecksIf(completed, state), withoutChecksIf(completed, clean))).toEqual({});
      rmSync(lake, { recursive: true, force: true });
    },
    CHAIN_TIMEOUT_MS,
  );

  /** Failures are chained the same way: run i fails at task i, then one run succeeds. */
  const failChains = chunk(
    states.filter((s) => s !== 'Optimize' && s !== 'Vacuum'),
    Math.ceil(states.length / 3),
  );
  it.each(failChains.map((c) => [c.join(', '), c] as const))(
    'tasks fail in turn (%s), then one rerun: clean state',
    async (_names, chain) => {
      const lake = freshLake();
      const state = await withEngine(lake, async (engine) => {
        for (const failing of chain) {
          const failed = runLocalEtl({
            engine,
            lakeDir: lake,
            input: FAST_INPUT as never,
            now: () => NOW,
            beforeTask: (s) => {
              if (s === failing) throw new Error(`injected failure of ${s}`);
            },
          });
          await expect(failed, failing).rejects.toBeInstanceOf(EtlRunFailedError);
          await expect(failed, failing).rejects.toThrow(/injected failure/);
        }
        const rerun = await run(engine, lake);
        expect(rerun.status).toBe('SUCCEEDED');
        return lakeState(engine, rerun.run?.run_id ?? '');
      });
      // A failed ReleaseLease comes after CompleteRun: the data was complete, so the final run
      // had nothing to do and its own quality results (0 new rows) differ from a working run's.
      const completed = chain.at(-1) === 'ReleaseLease';
      expect(differences(withoutChecksIf(completed, state), withoutChecksIf(completed, clean))).toEqual({});
      rmSync(lake, { recursive: true, force: true });
    },
    CHAIN_TIMEOUT_MS,
  );

  it('an idle run killed before CompleteRun, then one rerun: clean state; new landing data ends idleness', async () => {
    const lake = freshLake();
    await withEngine(lake, async (engine) => {
      expect((await run(engine, lake)).status).toBe('SUCCEEDED');
    });
    const child = await runChild(lake, 'CompleteRun', FAST_INPUT);
    expect(child.signal, `exit ${child.code}: ${child.stderr.slice(-2000)}`).toBe('SIGKILL');
    const state = await withEngine(lake, async (engine) => {
      // The killed idle run is still pending: the next run is not idle, redoes its (empty) work.
      const rerun = await run(engine, lake);
      expect(rerun.extractSummary?.idle).toBe('false');
      expect(rerun.steps.map((s) => s.state)).toContain('GoldDailySales');
      const [pending] = await engine.query<{ n: number }>('SELECT count(*) AS n FROM ops.etl_pending');
      expect(pending?.n).toBe(0);
      const afterRerun = await lakeState(engine, rerun.run?.run_id ?? '');
      // Then idle again, until a landing file arrives (the bronze fingerprint changes).
      expect((await run(engine, lake)).extractSummary?.idle).toBe('true');
      const late = { ...shopEvents()[40], event_id: 'late-arrival-1' } as ShopEvent;
      writeLandingFiles(lake, [late], { part: 'part-00010.jsonl' });
      const busy = await run(engine, lake);
      expect(busy.extractSummary?.idle).toBe('false');
      const [seen] = await engine.query<{ n: number }>(
        "SELECT count(*) AS n FROM silver.events WHERE event_id = 'late-arrival-1'",
      );
      expect(seen?.n).toBe(1);
      return afterRerun;
    });
    expect(differences(withoutChecksIf(true, state), withoutChecksIf(true, clean))).toEqual({});
  });

  it('a failed blocking gate stops gold; once the data is corrected the next run reaches the clean state', async () => {
    const lake = freshLake();
    // Within the event contract (price ≤ 1e9 a line), but an order total over the blocking
    // silver_orders_amount_range check's 1e9 (a price over 1e9 is now rejected before silver).
    const bad = {
      ...shopEvents()[30],
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
    writeLandingFiles(lake, [bad], { part: 'part-00009.jsonl' });
    const state = await withEngine(lake, async (engine) => {
      const failed = run(engine, lake);
      await expect(failed).rejects.toThrow(
        /data-quality gate failed, gold not updated: .*silver_orders_amount_range/,
      );
      for (const t of TABLES.filter((x) => x.namespace === 'gold')) {
        const [r] = await engine.query<{ n: number }>(`SELECT count(*) AS n FROM ${qualifiedName(t)}`);
        expect(r?.n, `${qualifiedName(t)} untouched by the failed run`).toBe(0);
      }
      // The operator removes the bad record (bronze, and what silver built from it); nothing
      // else is done by hand.
      await engine.execute("DELETE FROM bronze.events WHERE event_id = 'too-expensive'");
      await engine.execute("DELETE FROM silver.events WHERE event_id = 'too-expensive'");
      await engine.execute("DELETE FROM silver.orders WHERE order_id = 'o-too-expensive'");
      await engine.execute("DELETE FROM silver.order_lines WHERE order_id = 'o-too-expensive'");
      await engine.execute("DELETE FROM silver.sessions WHERE session_id = 's-too-expensive'");
      const rerun = await run(engine, lake);
      expect(rerun.status).toBe('SUCCEEDED');
      return lakeState(engine, rerun.run?.run_id ?? '');
    });
    expect(differences(state, clean)).toEqual({});
  });
});
