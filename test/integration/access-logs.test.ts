/**
 * Access logs end to end on the local lake: a generated log consistent with the generated
 * clickstream, in all three formats (one file each, one gzip'd), with hostile and malformed lines
 * → `ingestAccessLogFile` (the CLI's path) → the ETL state machine → silver and gold.
 *
 * Expected figures are computed here from the generator's request objects, independently of the
 * parser and the SQL: request and error counts per day, latency percentiles (within the rank
 * tolerance Trino's approx_percentile guarantees, so the same assertion holds on Athena), the
 * product-page reconciliation, and that no raw client IP reaches silver or gold.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTemplate } from '../../lambdas/shared/access-log/route.ts';
import { ACCESS_LOG_TABLES, qualifiedName, TABLES } from '../../lambdas/shared/catalog/index.ts';
import { parseEvent, type ShopEvent } from '../../lambdas/shared/event-schema.ts';
import { FileObjectStore } from '../../lambdas/shared/object-store.ts';
import { parseQuarantineObject } from '../../lambdas/shared/quarantine.ts';
import { type AccessLogIngestSummary, ingestAccessLogFile } from '../../local/access-log/ingest.ts';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';
import {
  accessLogForEvents,
  formatRequest,
  type GeneratedLogFormat,
  type GeneratedRequest,
} from '../../local/generator/access-log.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { type LocalEtlResult, runLocalEtl } from '../../local/sfn/etl-runner.ts';
import { writeLandingFiles } from '../../local/sfn/landing.ts';

const NOW = Date.parse('2026-11-21T00:00:00Z');
const SALT = 'integration-test-salt-0123456789';
const FORMATS: readonly GeneratedLogFormat[] = ['combined', 'nginx', 'apigw'];
/** Lines that must be rejected, with the reason the parser gives. */
const BAD_LINES: readonly [string, string][] = [
  ['this is not a log line', 'malformed_line'],
  [
    '203.0.113.5 - - [20/Nov/2026:10:00:00 +0000] "GET /product/P000001 HTTP/1.1" 200 12 "-" "trunc',
    'malformed_line',
  ],
  ['203.0.113.5 - - [31/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12 "-" "-"', 'invalid_timestamp'],
  // JSON in a file read as `combined` is not a Combined line.
  ['{"requestId":"x","httpMethod":"GET"', 'malformed_line'],
];

/** Nearest-rank bounds of the p-quantile allowing Trino's documented ~1 % rank error. */
function percentileBounds(values: number[], p: number, rankError = 0.01): [number, number] {
  const s = [...values].sort((a, b) => a - b);
  const lo = s[Math.max(0, Math.floor((p - rankError) * s.length) - 1)] ?? Number.NaN;
  const hi = s[Math.min(s.length - 1, Math.ceil((p + rankError) * s.length))] ?? Number.NaN;
  return [lo, hi];
}

describe('access logs: ingest → ETL → gold on the local lake', () => {
  let dir: string;
  let lake: string;
  let engine: DuckdbEngine;
  let requests: GeneratedRequest[];
  let events: ShopEvent[];
  const summaries: AccessLogIngestSummary[] = [];
  let etl: LocalEtlResult;
  const files: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoplake-access-'));
    lake = join(dir, 'lake');
    engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
    const shop = generateShop({
      seed: 5,
      events: 6_000,
      users: 200,
      products: 80,
      days: 3,
      end: NOW - 3_600_000,
    });
    events = [];
    for (const e of shop.events()) {
      const r = parseEvent(e, { now: () => NOW });
      if (r.ok) events.push(r.event);
    }
    writeLandingFiles(lake, events, { part: 'part-00001.jsonl' });
    requests = accessLogForEvents(shop.events(), { seed: 3, botShare: 0.1 });
    // Round-robin the requests over the three formats; hostile lines in the combined file.
    FORMATS.forEach((format, k) => {
      const lines = requests.filter((_, i) => i % 3 === k).map((r, i) => formatRequest(r, format, i));
      if (format === 'combined') lines.splice(5, 0, ...BAD_LINES.map(([l]) => l), '');
      const file = join(dir, `access-${format}.log${format === 'nginx' ? '.gz' : ''}`);
      const text = `${lines.join('\n')}\n`;
      writeFileSync(file, format === 'nginx' ? gzipSync(text) : text);
      files.push(file);
    });
    const quarantine = new FileObjectStore(pathToFileURL(`${lake}/`).href);
    for (const [k, file] of files.entries()) {
      const format = FORMATS[k] ?? 'combined';
      summaries.push(await ingestAccessLogFile(engine, lake, file, { format, salt: SALT, quarantine }));
    }
    etl = await runLocalEtl({ engine, lakeDir: lake, input: { full: true } });
  }, 600_000);

  afterAll(async () => {
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('accounts for every line: received = accepted + duplicates + rejected, rejects quarantined with line numbers', async () => {
    const total = summaries.reduce(
      (a, s) => ({
        received: a.received + s.received,
        accepted: a.accepted + s.accepted,
        duplicates: a.duplicates + s.duplicates,
        rejected: a.rejected + s.rejected,
      }),
      { received: 0, accepted: 0, duplicates: 0, rejected: 0 },
    );
    expect(total).toEqual({
      received: requests.length + BAD_LINES.length,
      accepted: requests.length,
      duplicates: 0,
      rejected: BAD_LINES.length,
    });
    const combined = summaries[0];
    expect(combined?.rejected_by_reason).toEqual({ malformed_line: 3, invalid_timestamp: 1 });
    const store = new FileObjectStore(pathToFileURL(`${lake}/`).href);
    const lines = parseQuarantineObject(await store.get(combined?.quarantine_keys[0] ?? ''));
    // The bad lines were inserted after the fifth line of the file: lines 6-9.
    expect(lines.map((l) => [l.line, l.reason])).toEqual(BAD_LINES.map(([, reason], i) => [6 + i, reason]));
    expect(lines.every((l) => l.source === 'access-log' && l.file === 'access-combined.log')).toBe(true);
  });

  it('a replayed file gives duplicates, not new rows', async () => {
    const quarantine = new FileObjectStore(pathToFileURL(`${lake}/`).href);
    const again = await ingestAccessLogFile(engine, lake, files[1] ?? '', {
      format: 'nginx',
      salt: SALT,
      quarantine,
    });
    expect(again).toMatchObject({ accepted: 0, rejected: 0, duplicates: summaries[1]?.accepted });
    const rerun = await runLocalEtl({ engine, lakeDir: lake, input: { full: true } });
    expect(rerun.status).toBe('SUCCEEDED');
    // Nothing new in bronze (events or access logs): the idle skip applies.
    expect(rerun.extractSummary?.idle).toBe('true');
    const [n] = await engine.query<{ n: number }>('SELECT count(*) AS n FROM silver.access_requests');
    expect(n?.n).toBe(requests.length);
  });

  it('brings all three formats to silver with UTC times and derived fields', async () => {
    expect(etl.status).toBe('SUCCEEDED');
    const rows = await engine.query<{ log_format: string; n: number; timed: number }>(
      'SELECT log_format, count(*) AS n, count(latency_ms) AS timed FROM silver.access_requests GROUP BY 1 ORDER BY 1',
    );
    const third = (k: number) => requests.filter((_, i) => i % 3 === k).length;
    expect(rows).toEqual([
      { log_format: 'apigw', n: third(2), timed: third(2) },
      { log_format: 'combined', n: third(0), timed: 0 },
      { log_format: 'nginx', n: third(1), timed: third(1) },
    ]);
    const [p] = await engine.query<{ route: string; n: number }>(
      "SELECT route, count(*) AS n FROM silver.access_requests WHERE path LIKE '/product/%' GROUP BY route ORDER BY n DESC LIMIT 1",
    );
    expect(p?.route).toBe('/product/{id}');
    const [q] = await engine.query<{ keys: string }>(
      "SELECT CAST(query_keys AS varchar) AS keys FROM silver.access_requests WHERE route = '/search' AND log_format <> 'apigw' LIMIT 1",
    );
    expect(q?.keys).toBe('[q, page]');
  });

  it('keeps raw client IPs out of silver and gold (scan of every access table)', async () => {
    const ips = new Set(requests.map((r) => r.ip));
    const v4 = /\b\d{1,3}(?:\.\d{1,3}){3}\b/g;
    let scanned = 0;
    for (const t of ACCESS_LOG_TABLES.filter((x) => x.namespace !== 'bronze')) {
      const rows = await engine.query(`SELECT * FROM ${qualifiedName(t)}`);
      const dump = JSON.stringify(rows);
      scanned += rows.length;
      for (const m of dump.match(v4) ?? []) expect(ips.has(m), `${qualifiedName(t)} holds ${m}`).toBe(false);
      for (const ip of ips) if (ip.includes(':')) expect(dump.includes(ip), qualifiedName(t)).toBe(false);
    }
    expect(scanned).toBeGreaterThan(requests.length);
    // Bronze does hold them (the scan above can find an IP when one is there).
    const bronze = JSON.stringify(await engine.query('SELECT client_ip FROM bronze.access_logs LIMIT 50'));
    expect((bronze.match(v4) ?? []).some((m) => ips.has(m))).toBe(true);
    // Every silver/gold table of the catalog, not only the access ones, is free of them.
    for (const t of TABLES.filter((x) => x.namespace === 'silver' || x.namespace === 'gold')) {
      const dump = JSON.stringify(await engine.query(`SELECT * FROM ${qualifiedName(t)}`));
      for (const m of dump.match(v4) ?? []) expect(ips.has(m), qualifiedName(t)).toBe(false);
    }
  });

  it('gold counts and latency percentiles per day equal an independent computation', async () => {
    const byDay = new Map<string, GeneratedRequest[]>();
    for (const r of requests) {
      const d = new Date(r.time).toISOString().slice(0, 10);
      byDay.set(d, [...(byDay.get(d) ?? []), r]);
    }
    const gold = await engine.query<{
      d: string;
      requests: number;
      status_4xx: number;
      status_5xx: number;
      bot_requests: number;
      p50: number;
      p95: number;
      p99: number;
    }>(
      `SELECT CAST(bucket_date AS varchar) AS d, requests, status_4xx, status_5xx, bot_requests,
              latency_p50_ms AS p50, latency_p95_ms AS p95, latency_p99_ms AS p99
       FROM gold.access_traffic WHERE grain = '1d' AND route = '*' ORDER BY bucket_date`,
    );
    expect(gold.map((g) => g.d)).toEqual([...byDay.keys()].sort());
    for (const g of gold) {
      const day = byDay.get(g.d) ?? [];
      expect(g).toMatchObject({
        requests: day.length,
        status_4xx: day.filter((r) => r.status >= 400 && r.status < 500).length,
        status_5xx: day.filter((r) => r.status >= 500).length,
        bot_requests: day.filter((r) => r.bot).length,
      });
      // Combined-format lines carry no latency: the percentiles are over the timed requests.
      const timed = day.filter((_, i) => requests.indexOf(day[i] as GeneratedRequest) % 3 !== 0);
      const latencies = timed.map((r) => r.latencyMs);
      for (const [p, v] of [
        [0.5, g.p50],
        [0.95, g.p95],
        [0.99, g.p99],
      ] as const) {
        const [lo, hi] = percentileBounds(latencies, p);
        expect(v, `${g.d} p${p * 100}`).toBeGreaterThanOrEqual(lo);
        expect(v, `${g.d} p${p * 100}`).toBeLessThanOrEqual(hi);
      }
    }
    // 5-minute and hourly buckets add up to the day.
    const sums = await engine.query<{ grain: string; n: number }>(
      "SELECT grain, sum(requests) AS n FROM gold.access_traffic WHERE route = '*' GROUP BY grain ORDER BY grain",
    );
    expect(sums).toEqual([
      { grain: '1d', n: requests.length },
      { grain: '1h', n: requests.length },
      { grain: '5m', n: requests.length },
    ]);
  });

  it('reconciles product-page requests with product_view events (daily health + DQ check)', async () => {
    const views = new Map<string, Set<string>>();
    for (const e of events) {
      if (e.event_type !== 'product_view') continue;
      const d = e.event_time.slice(0, 10);
      views.set(d, (views.get(d) ?? new Set()).add(e.event_id));
    }
    const health = await engine.query<{
      d: string;
      pages: number;
      views: number;
      ratio: number;
      bot_share: number;
    }>(
      `SELECT CAST(report_date AS varchar) AS d, product_page_requests AS pages, product_view_events AS views,
              product_view_ratio AS ratio, bot_share
       FROM gold.access_daily_health ORDER BY report_date`,
    );
    expect(health.length).toBeGreaterThan(0);
    for (const h of health) {
      expect(h.views).toBe(views.get(h.d)?.size ?? 0);
      expect(h.pages).toBe(h.views);
      expect(h.ratio).toBe(1);
    }
    const checks = await engine.query<{ passed: boolean; observed: number; severity: string }>(
      "SELECT passed, observed, severity FROM ops.data_quality_results WHERE check_name = 'access_logs_product_views_reconciled' AND run_id = :run",
      { run: etl.run?.run_id ?? '' },
    );
    expect(checks).toEqual([{ passed: true, observed: 0, severity: 'warning' }]);
  });

  it('infers sessions from log-only traffic and ranks top paths and slowest routes', async () => {
    const [s] = await engine.query<{ sessions: number; requests: number }>(
      'SELECT count(*) AS sessions, sum(requests) AS requests FROM silver.access_sessions',
    );
    // Every request with a client address belongs to exactly one session.
    expect(s?.requests).toBe(requests.length);
    expect(s?.sessions).toBeLessThan(requests.length / 2);
    const top = await engine.query<{ kind: string; n: number }>(
      'SELECT kind, count(*) AS n FROM gold.access_top GROUP BY kind ORDER BY kind',
    );
    expect(top.map((t) => t.kind)).toEqual(['path', 'referrer_host', 'slowest_route']);
    // Slowest routes: exactly the routes with >= 5 timed requests that day, by p95 descending.
    const day = new Date(requests[0]?.time ?? 0).toISOString().slice(0, 10);
    const timed = new Map<string, number>();
    requests.forEach((r, i) => {
      if (i % 3 === 0 || new Date(r.time).toISOString().slice(0, 10) !== day) return;
      const route = routeTemplate(r.target);
      timed.set(route, (timed.get(route) ?? 0) + 1);
    });
    const slow = await engine.query<{ item: string; p95: number }>(
      `SELECT item, latency_p95_ms AS p95 FROM gold.access_top
       WHERE kind = 'slowest_route' AND report_date = CAST(:day AS date) ORDER BY rank`,
      { day },
    );
    expect(slow.map((x) => x.item).sort()).toEqual(
      [...timed]
        .filter(([, n]) => n >= 5)
        .map(([r]) => r)
        .sort(),
    );
    for (let i = 1; i < slow.length; i++) expect(slow[i - 1]?.p95).toBeGreaterThanOrEqual(slow[i]?.p95 ?? 0);
    expect(readFileSync(files[0] ?? '', 'utf8')).toContain('this is not a log line');
  });
  it('an access-log-only delivery is not idle: the new requests reach silver and gold', async () => {
    const quarantine = new FileObjectStore(pathToFileURL(`${lake}/`).href);
    const extra = join(dir, 'late.log');
    const late = {
      ...(requests[0] as GeneratedRequest),
      target: '/late-arrival',
      time: (requests[0]?.time ?? 0) + 7,
    };
    writeFileSync(extra, `${formatRequest(late, 'combined')}\n`);
    const s = await ingestAccessLogFile(engine, lake, extra, { format: 'combined', salt: SALT, quarantine });
    expect(s).toMatchObject({ received: 1, accepted: 1 });
    const run = await runLocalEtl({ engine, lakeDir: lake, input: { full: true } });
    expect(run.extractSummary?.idle).toBe('false');
    const [n] = await engine.query<{ n: number }>(
      "SELECT count(*) AS n FROM gold.access_top WHERE kind = 'path' AND item = '/late-arrival'",
    );
    expect(n?.n).toBe(1);
  });
});

describe('access logs: a file landed in several chunks', () => {
  let dir: string;
  let lake: string;
  let engine: DuckdbEngine;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoplake-access-chunks-'));
    lake = join(dir, 'lake');
    engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('deduplicates across chunks (first line wins) and lands every chunk in ONE commit', async () => {
    const day = (d: number, h: number) =>
      Date.parse(`2026-11-${10 + d}T${String(h).padStart(2, '0')}:00:00Z`);
    const line = (requestId: string, time: number, path: string) =>
      JSON.stringify({
        requestId,
        ip: '198.51.100.7',
        requestTimeEpoch: time,
        httpMethod: 'GET',
        path,
        status: '200',
        protocol: 'HTTP/1.1',
        responseLength: '10',
        responseLatency: '5',
        userAgent: 'curl/8.0',
      });
    // One chunk per day (chunk size 1): `r1` appears again two days later (another chunk, a
    // different time: same record id, so a duplicate), `r3` twice in its own day.
    const file = join(dir, 'chunks.log');
    writeFileSync(
      file,
      `${[
        line('r1', day(0, 1), '/a'),
        line('r2', day(0, 2), '/b'),
        line('r3', day(1, 3), '/c'),
        line('r3', day(1, 3), '/c'),
        line('r1', day(2, 4), '/a-again'),
        line('r4', day(2, 5), '/d'),
      ].join('\n')}\n`,
    );
    const quarantine = new FileObjectStore(pathToFileURL(`${lake}/`).href);
    const opts = { format: 'apigw', salt: SALT, quarantine, landChunkRows: 1 } as const;
    const bronze = await engine.table('bronze.access_logs');
    const before = bronze.snapshots().length;
    const first = await ingestAccessLogFile(engine, lake, file, opts);
    expect(first).toMatchObject({ received: 6, accepted: 4, duplicates: 2, rejected: 0 });
    expect((await engine.table('bronze.access_logs')).snapshots().length).toBe(before + 1);
    const rows = await engine.query<{ record_id: string; source_line: number; path: string }>(
      'SELECT record_id, source_line, path FROM bronze.access_logs ORDER BY source_line',
    );
    expect(rows.map((r) => [r.source_line, r.path])).toEqual([
      [1, '/a'],
      [2, '/b'],
      [3, '/c'],
      [6, '/d'],
    ]);
    // Re-ingested: every line a duplicate, no new snapshot.
    const again = await ingestAccessLogFile(engine, lake, file, opts);
    expect(again).toMatchObject({ received: 6, accepted: 0, duplicates: 6, rejected: 0 });
    expect((await engine.table('bronze.access_logs')).snapshots().length).toBe(before + 1);
  });
});
