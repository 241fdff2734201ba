/**
 * Local access-log ingest: a log file (plain or gzip) → `bronze.access_logs`, with the same
 * accounting as events: every non-blank line is received and ends accepted, a duplicate (its
 * record id is already in bronze, or earlier in the file) or rejected with a reason and its line
 * number in the quarantine (`<lake>/quarantine/source=access-log/`).
 *
 * Streaming: lines are parsed as they are read (memory bounded by the longest line and the
 * quarantine batch), accepted rows are staged as NDJSON, then appended in ONE Iceberg commit
 * that skips record ids bronze already holds (the AWS path's Firehose writes the same rows);
 * the data files are written in chunks of whole days, so DuckDB's memory stays bounded
 * whatever the file size (`landStaged`).
 * Parsing and row derivation are the shared code of the Firehose transformation.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { checkSalt } from '../../lambdas/shared/access-log/anonymise.ts';
import {
  type AccessLogFormatOption,
  MAX_LINE_BYTES,
  parseAccessLogBytes,
} from '../../lambdas/shared/access-log/parse.ts';
import { type AccessLogRow, accessLogRow, RecordIds } from '../../lambdas/shared/access-log/row.ts';
import { BRONZE_ACCESS_LOGS } from '../../lambdas/shared/catalog/index.ts';
import { recordExcerpt } from '../../lambdas/shared/lake-record.ts';
import type { ObjectStore } from '../../lambdas/shared/object-store.ts';
import { type QuarantineEntry, writeQuarantine } from '../../lambdas/shared/quarantine.ts';
import type { DuckdbEngine } from '../engine/duckdb.ts';
import type { DataFile } from '../iceberg/avro.ts';
import { duckdbType, quoteLiteral } from '../iceberg/schema.ts';
import { toLocalPath } from '../iceberg/writer.ts';

export interface AccessLogIngestSummary {
  file: string;
  format: AccessLogFormatOption;
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  rejected_by_reason: Record<string, number>;
  first_request_time: string | null;
  last_request_time: string | null;
  parse_ms: number;
  commit_ms: number;
  elapsed_ms: number;
  lines_per_second: number;
  quarantine_keys: string[];
}

/** Rejected lines written per quarantine object (bounds memory on a garbage file). */
const QUARANTINE_BATCH = 10_000;

const DAY_MS = 86_400_000;

/**
 * Rows written per landing chunk (whole UTC days, the partition of bronze.access_logs). One
 * sort + partitioned Parquet write over a whole 10M-line file ran DuckDB out of its 3 GB (the
 * row-number window and the sort held every wide row, the partition writers one row group
 * each); chunks of whole days bound both, and their files still go in ONE Iceberg commit.
 */
export const LAND_CHUNK_ROWS = 1_000_000;

/** Consecutive UTC days grouped into chunks of at most `maxRows` rows (a bigger day is alone). */
export function landingChunks(
  dayCounts: ReadonlyMap<number, number>,
  maxRows: number,
): Array<[number, number]> {
  const days = [...dayCounts.keys()].sort((a, b) => a - b);
  const chunks: Array<[number, number]> = [];
  let first: number | undefined;
  let last = 0;
  let rows = 0;
  for (const day of days) {
    const n = dayCounts.get(day) ?? 0;
    if (first !== undefined && rows + n > maxRows) {
      chunks.push([first, last + 1]);
      first = undefined;
    }
    if (first === undefined) {
      first = day;
      rows = 0;
    }
    last = day;
    rows += n;
  }
  if (first !== undefined) chunks.push([first, last + 1]);
  return chunks;
}

function stagingParquet(staging: string): string {
  return staging.replace(/\.jsonl$/, '.parquet');
}

function tsLiteral(ms: number): string {
  return `TIMESTAMPTZ ${quoteLiteral(new Date(ms).toISOString())}`;
}

/**
 * Appends the staged rows whose record id is new (not in bronze, first occurrence in the file)
 * to bronze.access_logs in ONE commit; returns the rows added.
 *
 * 1. The staging NDJSON becomes a Parquet file (streamed, typed once).
 * 2. The lines to drop are found on narrow columns only (record id, line, time): ids bronze
 *    already holds (within the file's time range), and every occurrence of an in-file
 *    duplicate id but its first line (a hash aggregate of the ids, which spills; no window
 *    over wide rows).
 * 3. Each chunk of whole days is written as data files (sorted, partitioned by day), minus
 *    the dropped lines; all the chunks' files are appended in one snapshot (or deleted).
 */
async function landStaged(
  engine: DuckdbEngine,
  staging: string,
  chunks: ReadonlyArray<[number, number]>,
  [minTime, maxTime]: [number, number],
): Promise<number> {
  const conn = engine.connection;
  const bronze = await engine.table('bronze.access_logs');
  const cols = BRONZE_ACCESS_LOGS.columns;
  const columnTypes = cols
    .map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(duckdbType(c.type))}`)
    .join(', ');
  const parquet = stagingParquet(staging);
  const staged = `read_parquet(${quoteLiteral(parquet)})`;
  const dropTable = `__access_log_drop_${randomUUID().replaceAll('-', '')}`;
  await conn.run(
    `COPY (SELECT ${cols.map((c) => c.name).join(', ')}
           FROM read_json(${quoteLiteral(staging)}, format = 'newline_delimited', columns = {${columnTypes}}))
     TO ${quoteLiteral(parquet)} (FORMAT parquet)`,
  );
  rmSync(staging, { force: true });
  const files: DataFile[] = [];
  try {
    await conn.run(
      `CREATE TEMP TABLE ${dropTable} AS
       SELECT s.source_line, s.request_time FROM ${staged} s
       WHERE s.record_id IN (
         SELECT b.record_id FROM bronze.access_logs b
         WHERE b.request_time BETWEEN ${tsLiteral(minTime)} AND ${tsLiteral(maxTime)})
       UNION ALL
       SELECT s.source_line, s.request_time FROM ${staged} s
       JOIN (SELECT record_id, min(source_line) AS first_line FROM ${staged}
             GROUP BY record_id HAVING count(*) > 1) d
         ON d.record_id = s.record_id AND s.source_line <> d.first_line`,
    );
    for (const [fromDay, toDay] of chunks) {
      const range = (t: string) =>
        `${t}.request_time >= ${tsLiteral(fromDay * DAY_MS)} AND ${t}.request_time < ${tsLiteral(toDay * DAY_MS)}`;
      files.push(
        ...(await bronze.writeQuery(
          conn,
          `SELECT ${cols.map((c) => `s.${c.name}`).join(', ')} FROM ${staged} s
           WHERE ${range('s')}
             AND NOT EXISTS (SELECT 1 FROM ${dropTable} d WHERE ${range('d')} AND d.source_line = s.source_line)`,
        )),
      );
    }
    const commit = await bronze.appendFiles(files);
    return commit.addedRecords;
  } catch (err: unknown) {
    await Promise.all(files.map((f) => rm(toLocalPath(f.filePath), { force: true })));
    throw err;
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${dropTable}`);
    rmSync(parquet, { force: true });
  }
}

/** Lines of a byte stream (`\n`, a trailing `\r` is the parser's business), with 1-based numbers. */
export async function* readLines(
  stream: AsyncIterable<Buffer>,
  maxLineBytes: number,
): AsyncGenerator<{ line: Buffer; lineNo: number; oversized: boolean }> {
  let rest: Buffer = Buffer.alloc(0);
  let lineNo = 0;
  let oversized = false;
  for await (const chunk of stream) {
    let data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    let nl = data.indexOf(0x0a, start);
    while (nl >= 0) {
      lineNo += 1;
      yield { line: data.subarray(start, nl), lineNo, oversized };
      oversized = false;
      start = nl + 1;
      nl = data.indexOf(0x0a, start);
    }
    data = data.subarray(start);
    // A line far over the limit is not buffered whole: keep its head, remember it was cut.
    if (data.length > maxLineBytes * 2) {
      data = Buffer.from(data.subarray(0, maxLineBytes + 1));
      oversized = true;
    }
    rest = data.length > 0 ? Buffer.from(data) : Buffer.alloc(0);
  }
  if (rest.length > 0) {
    lineNo += 1;
    yield { line: rest, lineNo, oversized };
  }
}

/** A file as a byte stream, gunzipped when it starts with the gzip magic bytes. */
export async function openLogStream(file: string): Promise<AsyncIterable<Buffer>> {
  const head = Buffer.alloc(2);
  const fd = await open(file, 'r');
  try {
    await fd.read(head, 0, 2, 0);
  } finally {
    await fd.close();
  }
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  return head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
}

/**
 * The access-log salt of a state directory: `SHOPLAKE_ACCESS_LOG_SALT`, else
 * `<stateDir>/secrets/access-log-salt` (created with 32 random bytes on first use, mode 0600).
 */
export function localAccessLogSalt(stateDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.SHOPLAKE_ACCESS_LOG_SALT) return checkSalt(env.SHOPLAKE_ACCESS_LOG_SALT);
  const file = join(stateDir, 'secrets', 'access-log-salt');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return checkSalt(readFileSync(file, 'utf8').trim());
}

/** The row as the staging NDJSON DuckDB reads (timestamps as ISO strings). */
function stagingLine(row: AccessLogRow): string {
  return JSON.stringify({
    ...row,
    request_time: new Date(row.request_time).toISOString(),
    ingested_at: new Date(row.ingested_at).toISOString(),
  });
}

export interface IngestAccessLogOptions {
  readonly format: AccessLogFormatOption;
  readonly salt: string;
  /** Quarantine store (the lake root). */
  readonly quarantine: ObjectStore;
  readonly now?: () => number;
  /** Name recorded in `source_file` (default: the file's base name). */
  readonly sourceName?: string;
  /** Rows per landing chunk (default `LAND_CHUNK_ROWS`; tests use small ones). */
  readonly landChunkRows?: number;
}

/** Parses a log file and appends its new rows to bronze.access_logs (one commit). */
export async function ingestAccessLogFile(
  engine: DuckdbEngine,
  lakeDir: string,
  file: string,
  options: IngestAccessLogOptions,
): Promise<AccessLogIngestSummary> {
  const started = performance.now();
  const now = options.now ?? Date.now;
  const ingestedAtMs = now();
  const sourceName = options.sourceName ?? basename(file);
  const stagingDir = join(lakeDir, 'landing', '_access_logs_staging');
  mkdirSync(stagingDir, { recursive: true });
  const staging = join(stagingDir, `${randomUUID()}.jsonl`);
  const out = createWriteStream(staging);
  const ids = new RecordIds();
  const rejectedByReason: Record<string, number> = {};
  const quarantineKeys: string[] = [];
  let pending: QuarantineEntry[] = [];
  let received = 0;
  let parsed = 0;
  let rejected = 0;
  let minTime = Number.POSITIVE_INFINITY;
  let maxTime = Number.NEGATIVE_INFINITY;
  /** Parsed rows per UTC day (epoch day number): the landing chunks. */
  const dayCounts = new Map<number, number>();
  const flushQuarantine = async () => {
    const key = await writeQuarantine(options.quarantine, 'access-log', pending, { now });
    if (key) quarantineKeys.push(key);
    pending = [];
  };
  try {
    for await (const { line, lineNo, oversized } of readLines(await openLogStream(file), MAX_LINE_BYTES)) {
      if (line.length === 0 || (line.length === 1 && line[0] === 0x0d)) continue; // blank: not a record
      received += 1;
      const result = oversized
        ? ({ ok: false, reason: 'line_too_long', detail: `line over ${MAX_LINE_BYTES} bytes` } as const)
        : parseAccessLogBytes(line, options.format);
      if (!result.ok) {
        rejected += 1;
        rejectedByReason[result.reason] = (rejectedByReason[result.reason] ?? 0) + 1;
        pending.push({
          reason: result.reason,
          detail: result.detail,
          raw: recordExcerpt(line, 2_000),
          context: { file: sourceName, line: lineNo, format: options.format },
        });
        if (pending.length >= QUARANTINE_BATCH) await flushQuarantine();
        continue;
      }
      parsed += 1;
      const r = result.request;
      if (r.request_time < minTime) minTime = r.request_time;
      if (r.request_time > maxTime) maxTime = r.request_time;
      const day = Math.floor(r.request_time / DAY_MS);
      dayCounts.set(day, (dayCounts.get(day) ?? 0) + 1);
      const row = accessLogRow(r, {
        recordId: ids.next(line.toString('latin1'), r),
        ingestedAtMs,
        salt: options.salt,
        sourceFile: sourceName,
        sourceLine: lineNo,
      });
      if (!out.write(`${stagingLine(row)}\n`)) await once(out, 'drain');
    }
    await flushQuarantine();
    out.end();
    await once(out, 'close');
    const parseMs = performance.now() - started;

    let accepted = 0;
    if (parsed > 0) {
      accepted = await landStaged(
        engine,
        staging,
        landingChunks(dayCounts, options.landChunkRows ?? LAND_CHUNK_ROWS),
        [minTime, maxTime],
      );
      await engine.table('bronze.access_logs');
    }
    const elapsed = performance.now() - started;
    const summary: AccessLogIngestSummary = {
      file,
      format: options.format,
      received,
      accepted,
      duplicates: parsed - accepted,
      rejected,
      rejected_by_reason: rejectedByReason,
      first_request_time: parsed > 0 ? new Date(minTime).toISOString() : null,
      last_request_time: parsed > 0 ? new Date(maxTime).toISOString() : null,
      parse_ms: Math.round(parseMs),
      commit_ms: Math.round(elapsed - parseMs),
      elapsed_ms: Math.round(elapsed),
      lines_per_second: Math.round(received / Math.max(elapsed / 1000, 1e-3)),
      quarantine_keys: quarantineKeys,
    };
    if (summary.accepted + summary.duplicates + summary.rejected !== summary.received) {
      throw new Error('access-log accounting does not add up');
    }
    return summary;
  } finally {
    out.destroy();
    rmSync(staging, { force: true });
    rmSync(stagingParquet(staging), { force: true });
  }
}
