/**
 * Local Iceberg benchmark: commit latency (median / p95 of small appends, metadata commit only
 * and end to end), write throughput of a large partitioned append (rows/s through DuckDB's
 * Parquet writer with field ids and stats), scan time, compaction time.
 *
 * Run alone: `npx tsx bench/iceberg.bench.ts` (ICEBERG_BENCH_ROWS=1000000 by default).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdbScanSql, LocalIcebergCatalog, type TableSpec } from '../local/iceberg/index.ts';

export interface IcebergBenchResult {
  name: 'iceberg';
  rows: number;
  commits: number;
  commitLatencyMedianMs: number;
  commitLatencyP95Ms: number;
  appendEndToEndMedianMs: number;
  writeRowsPerSecond: number;
  writeSeconds: number;
  writeFiles: number;
  writeBytes: number;
  scanCountSeconds: number;
  compactSeconds: number;
}

const SPEC: TableSpec = {
  columns: [
    { id: 1, name: 'event_id', type: 'string', required: true },
    { id: 2, name: 'event_type', type: 'string', required: true },
    { id: 3, name: 'event_time', type: 'timestamptz', required: true },
    { id: 4, name: 'session_id', type: 'string', required: true },
    { id: 5, name: 'user_id', type: 'string', required: false },
    { id: 6, name: 'product_id', type: 'string', required: false },
    { id: 7, name: 'price', type: 'double', required: false },
    { id: 8, name: 'quantity', type: 'int', required: true },
    { id: 9, name: 'attributes', type: { type: 'map', key: 'string', value: 'string' }, required: false },
  ],
  partitionBy: [{ sourceColumn: 'event_time', transform: 'day' }],
};

function eventsSql(rows: number, offset = 0): string {
  return `SELECT 'e' || (i + ${offset}) AS event_id,
      (['page_view','product_view','add_to_cart','purchase'])[1 + (i % 4)::INT] AS event_type,
      TIMESTAMPTZ '2026-10-01 00:00:00+00' + to_seconds((i * 2591) % (30 * 86400)) AS event_time,
      's' || (i // 20) AS session_id,
      CASE WHEN i % 3 = 0 THEN NULL ELSE 'u' || (i % 50000) END AS user_id,
      'p' || (i % 5000) AS product_id,
      (i % 10000) / 100.0 AS price,
      1 + (i % 3)::INT AS quantity,
      MAP {'utm_source': 'src' || (i % 7)} AS attributes
    FROM range(${rows}) t(i)`;
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

/** Runs the benchmark and returns its figures (also printed by `bench/run.ts`). */
export async function run(opts: { rows?: number; commits?: number } = {}): Promise<IcebergBenchResult> {
  const rows = opts.rows ?? Number(process.env.ICEBERG_BENCH_ROWS ?? 1_000_000);
  const commits = opts.commits ?? 30;
  const warehouse = await mkdtemp(path.join(tmpdir(), 'iceberg-bench-'));
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  try {
    const catalog = new LocalIcebergCatalog(warehouse);

    // Commit latency: many small appends (10 rows each, one or two partitions).
    const small = await catalog.createTable('bench.small_appends', SPEC);
    const commitMs: number[] = [];
    const totalMs: number[] = [];
    for (let i = 0; i < commits; i++) {
      const r = await small.appendQuery(conn, eventsSql(10, i * 10));
      commitMs.push(r.commitMs);
      totalMs.push(r.totalMs);
    }
    const compactStart = performance.now();
    await small.compact(conn);
    const compactSeconds = (performance.now() - compactStart) / 1000;

    // Throughput: one large partitioned append from a materialized source table, so the
    // figure is the Iceberg write (cast, partition, Parquet with field ids + stats, commit)
    // and not the synthetic data generation.
    await conn.run(`CREATE OR REPLACE TEMP TABLE bench_source AS ${eventsSql(rows)}`);
    const big = await catalog.createTable('bench.big_append', SPEC);
    const writeStart = performance.now();
    const r = await big.appendQuery(conn, 'SELECT * FROM bench_source');
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const files = await big.planFiles();

    const scanStart = performance.now();
    const counted = await conn.runAndReadAll(`SELECT count(*) AS n FROM (${await duckdbScanSql(big)})`);
    const n = Number((await counted.getRowObjectsJson())[0]?.n);
    const scanCountSeconds = (performance.now() - scanStart) / 1000;
    if (n !== rows || r.addedRecords !== rows)
      throw new Error(`benchmark wrote ${r.addedRecords} / read ${n} of ${rows} rows`);

    return {
      name: 'iceberg',
      rows,
      commits,
      commitLatencyMedianMs: round(quantile(commitMs, 0.5)),
      commitLatencyP95Ms: round(quantile(commitMs, 0.95)),
      appendEndToEndMedianMs: round(quantile(totalMs, 0.5)),
      writeRowsPerSecond: Math.round(rows / writeSeconds),
      writeSeconds: round(writeSeconds),
      writeFiles: files.length,
      writeBytes: files.reduce((s, f) => s + f.fileSizeInBytes, 0),
      scanCountSeconds: round(scanCountSeconds),
      compactSeconds: round(compactSeconds),
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
    await rm(warehouse, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run()
    .then((r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    });
}
