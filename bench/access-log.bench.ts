/**
 * Access-log benchmark (docs/access-logs.md):
 *  - parser alone: `parseAccessLogLine` on generated nginx lines (`$request_time`), one core;
 *  - parser + derivations (`accessLogRow`: route template, query keys, UA class, HMAC pseudonym);
 *  - parse + land: `ingestAccessLogFile` of a gzip'd file into a fresh local lake (streaming
 *    parse, staging, one Iceberg commit);
 *  - bronze → gold: the ETL state machine on that lake (silver requests and sessions, gold
 *    traffic per 5 min / hour / day, rankings, daily health);
 *  - peak RSS of the process (VmHWM).
 *
 * Default 1M log lines; `SHOPLAKE_BENCH_ACCESS_LINES=10000000 npm run bench -- access-log` for 10M.
 */
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import { parseAccessLogLine } from '../lambdas/shared/access-log/parse.ts';
import { accessLogRow, RecordIds } from '../lambdas/shared/access-log/row.ts';
import { FileObjectStore } from '../lambdas/shared/object-store.ts';
import { ingestAccessLogFile } from '../local/access-log/ingest.ts';
import { DuckdbEngine } from '../local/engine/duckdb.ts';
import { formatRequest, syntheticAccessLog } from '../local/generator/access-log.ts';
import { runLocalEtl } from '../local/sfn/etl-runner.ts';

const SALT = 'bench-salt-0123456789abcdef0123';

function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m?.[1] ? Math.round(Number(m[1]) / 1024) : Math.round(process.memoryUsage().rss / 1024 / 1024);
}

export async function run(): Promise<Record<string, unknown>> {
  const lines = Number(process.env.SHOPLAKE_BENCH_ACCESS_LINES ?? 1_000_000);
  const days = Math.max(1, Math.round(lines / 150_000));

  // 1. Parser alone on 200k distinct in-memory lines, best of 3 passes (JIT warm after the first).
  const sample: string[] = [];
  let i = 0;
  for (const r of syntheticAccessLog({ lines: 200_000, seed: 3, days: 2 }))
    sample.push(formatRequest(r, 'nginx', i++));
  let parseBest = Number.POSITIVE_INFINITY;
  let ok = 0;
  for (let pass = 0; pass < 3; pass++) {
    const t = performance.now();
    ok = 0;
    for (const line of sample) if (parseAccessLogLine(line, 'nginx').ok) ok++;
    parseBest = Math.min(parseBest, performance.now() - t);
  }
  if (ok !== sample.length) throw new Error(`parser rejected ${sample.length - ok} generated lines`);
  let deriveBest = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < 3; pass++) {
    const ids = new RecordIds();
    const t = performance.now();
    for (const line of sample) {
      const r = parseAccessLogLine(line, 'nginx');
      if (r.ok) accessLogRow(r.request, { recordId: ids.next(line, r.request), ingestedAtMs: 0, salt: SALT });
    }
    deriveBest = Math.min(deriveBest, performance.now() - t);
  }

  // 2. Parse + land: a gzip'd nginx log of `lines` lines into a fresh lake.
  const dir = mkdtempSync(join(tmpdir(), 'shoplake-bench-access-'));
  try {
    const file = join(dir, 'access.log.gz');
    const gz = createGzip({ level: 1 });
    const out = createWriteStream(file);
    gz.pipe(out);
    let n = 0;
    let buf: string[] = [];
    for (const r of syntheticAccessLog({ lines, seed: 9, days })) {
      buf.push(formatRequest(r, 'nginx', n++));
      if (buf.length === 10_000) {
        if (!gz.write(`${buf.join('\n')}\n`)) await once(gz, 'drain');
        buf = [];
      }
    }
    gz.end(buf.length > 0 ? `${buf.join('\n')}\n` : '');
    await once(out, 'close');
    const lake = join(dir, 'lake');
    const engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
    try {
      const ingest = await ingestAccessLogFile(engine, lake, file, {
        format: 'nginx',
        salt: SALT,
        quarantine: new FileObjectStore(pathToFileURL(`${lake}/`).href),
      });
      if (ingest.accepted !== lines) throw new Error(`landed ${ingest.accepted} of ${lines}`);
      // 3. bronze → gold.
      const t = performance.now();
      const etl = await runLocalEtl({ engine, lakeDir: lake, input: { full: true } });
      const etlMs = performance.now() - t;
      if (etl.status !== 'SUCCEEDED') throw new Error(`ETL ${etl.status}`);
      const step = (name: string) => etl.steps.find((s) => s.state === name)?.ms ?? 0;
      const [gold] = await engine.query<{ n: number }>(
        "SELECT sum(requests) AS n FROM gold.access_traffic WHERE grain = '1d' AND route = '*'",
      );
      if (Number(gold?.n) !== lines) throw new Error(`gold counts ${gold?.n} requests of ${lines}`);
      const result = {
        lines,
        days,
        parser_lines_per_s: Math.round(sample.length / (parseBest / 1000)),
        parser_with_derivations_lines_per_s: Math.round(sample.length / (deriveBest / 1000)),
        ingest_parse_ms: ingest.parse_ms,
        ingest_commit_ms: ingest.commit_ms,
        parse_and_land_lines_per_s: ingest.lines_per_second,
        bronze_to_gold_s: Math.round(etlMs / 100) / 10,
        bronze_to_gold_lines_per_s: Math.round(lines / (etlMs / 1000)),
        silver_access_requests_ms: step('SilverAccessRequests'),
        silver_access_sessions_ms: step('SilverAccessSessionsInsert'),
        gold_access_traffic_ms: step('GoldAccessTrafficInsert'),
        gold_access_top_ms: step('GoldAccessTopInsert'),
        gold_access_health_ms: step('GoldAccessDailyHealthInsert'),
        peak_rss_mb: peakRssMb(),
        cpus: cpus().length,
        load_avg_1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      };
      return result;
    } finally {
      await engine.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
