/**
 * Landing → bronze for the local lake: what Firehose's Iceberg destination does on AWS.
 *
 * The local Firehose writes NDJSON part files to `<lake>/landing/events/event_date=…/`. A load
 * moves the files it takes to `<lake>/landing/_processing/<loadId>/` (a rename: appends that
 * happen afterwards go to a fresh file, so nothing is loaded twice or missed), appends their
 * rows to `bronze.events` in one Iceberg commit, then moves them to
 * `<lake>/landing/_loaded/<loadId>/` (kept for operators). A load interrupted between the
 * two moves is finished on the next load: its files are re-loaded only if bronze has no row
 * from them. Records whose fields do not fit the bronze types, or that lack a required field,
 * go to `ops.rejected_events` with a reason — never dropped silently.
 *
 * Poison records never block a load: when DuckDB's typed NDJSON read fails on a file set
 * (truncated JSON, invalid UTF-8, lone surrogates, a line over `LIMITS.maxEventBytes`, a value
 * of the wrong type…), every line is validated on its own with `validateLakeRecord`, the same
 * check the Firehose transformation applies on AWS (and ingest before it). Valid lines are
 * loaded; each bad one goes to `ops.rejected_events` with its reason, source file and line.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { LAKE_PREFIXES } from '../../infra/definitions/resources.ts';
import { BRONZE_EVENTS } from '../../lambdas/shared/catalog/index.ts';
import { LIMITS } from '../../lambdas/shared/event-schema.ts';
import { recordExcerpt, validateLakeRecord } from '../../lambdas/shared/lake-record.ts';
import type { DuckdbEngine } from '../engine/duckdb.ts';
import { faultPoint } from '../fault-points.ts';
import { CommitConflictError, type CommitResult } from '../iceberg/index.ts';
import { duckdbType, quoteLiteral } from '../iceberg/schema.ts';

export interface LandingLoadResult {
  readonly loadId: string;
  readonly files: number;
  readonly rows: number;
  readonly rejected: number;
  readonly recoveredLoads: number;
}

/** Records lacking one of these are rejected (`missing_field`): bronze's required columns. */
const REQUIRED = BRONZE_EVENTS.columns.filter((c) => c.required).map((c) => c.name);

function listPartFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const dir of readdirSync(root).sort()) {
    if (!dir.startsWith('event_date=')) continue;
    const full = join(root, dir);
    if (!statSync(full).isDirectory()) continue;
    for (const f of readdirSync(full).sort()) {
      if (f.endsWith('.jsonl') && statSync(join(full, f)).size > 0) out.push(join(full, f));
    }
  }
  return out;
}

function listFilesRecursive(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const name of readdirSync(root).sort()) {
    const full = join(root, name);
    if (statSync(full).isDirectory()) out.push(...listFilesRecursive(full));
    else if (name.endsWith('.jsonl')) out.push(full);
  }
  return out;
}

function moveTree(files: string[], fromRoot: string, toRoot: string): string[] {
  const moved: string[] = [];
  for (const f of files) {
    const target = join(toRoot, relative(fromRoot, f));
    mkdirSync(dirname(target), { recursive: true });
    try {
      renameSync(f, target);
    } catch (error: unknown) {
      // Another loader took the file first (the rename is the claim): it is not ours to load.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    moved.push(target);
  }
  return moved;
}

/** `source_file`s of one load already in a table (`<loadId>/event_date=…/part….jsonl`). */
async function sourceFilesOf(engine: DuckdbEngine, table: string, loadId: string): Promise<Set<string>> {
  const rows = await engine.query<{ f: string }>(
    `SELECT DISTINCT source_file AS f FROM ${table} WHERE starts_with(source_file, :prefix)`,
    { prefix: `${loadId}/` },
  );
  return new Set(rows.map((r) => r.f));
}

function notIn(files: ReadonlySet<string> | undefined): string {
  if (!files || files.size === 0) return '';
  return ` AND source_file NOT IN (${[...files].map((f) => quoteLiteral(f)).join(', ')})`;
}

/**
 * Loads every landed event file into bronze.events. Returns what was loaded; a landing
 * directory without files is a no-op (zero rows), not an error.
 */
export async function loadLandingEvents(
  engine: DuckdbEngine,
  lakeDir: string,
  options: { runId: string; now?: Date } = { runId: 'manual' },
): Promise<LandingLoadResult> {
  const landingRoot = join(lakeDir, LAKE_PREFIXES.landingEvents);
  const processingRoot = join(lakeDir, 'landing', '_processing');
  const loadedRoot = join(lakeDir, 'landing', '_loaded');
  const now = options.now ?? new Date();
  let recoveredLoads = 0;
  let files = 0;
  let rows = 0;
  let rejected = 0;

  // Finish interrupted loads first.
  if (existsSync(processingRoot)) {
    for (const loadId of readdirSync(processingRoot).sort()) {
      const dir = join(processingRoot, loadId);
      const pending = listFilesRecursive(dir);
      if (pending.length === 0) continue;
      // Per file and per table: a crash may have come after the bronze commit and before the
      // rejected-records commit, so each table gets exactly the files it does not hold yet.
      const skip = {
        bronze: await sourceFilesOf(engine, 'bronze.events', loadId),
        rejected: await sourceFilesOf(engine, 'ops.rejected_events', loadId),
      };
      const r = await appendFiles(engine, pending, processingRoot, options.runId, now, skip);
      rows += r.rows;
      rejected += r.rejected;
      files += pending.length;
      moveTree(pending, processingRoot, loadedRoot);
      recoveredLoads++;
    }
  }

  const loadId = `load-${now.toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
  const landed = listPartFiles(landingRoot);
  if (landed.length === 0) return { loadId, files, rows, rejected, recoveredLoads };
  const moved = moveTree(landed, landingRoot, join(processingRoot, loadId));
  faultPoint('landing:moved');
  const r = await appendFiles(engine, moved, processingRoot, options.runId, now);
  moveTree(moved, processingRoot, loadedRoot);
  return {
    loadId,
    files: files + moved.length,
    rows: rows + r.rows,
    rejected: rejected + r.rejected,
    recoveredLoads,
  };
}

/**
 * The files' records as a relation with a `reason` column (NULL = loadable): DuckDB's typed
 * NDJSON reader, streamed straight into the commit (no staging copy). `root` is the directory
 * `source_file` is relative to. Any line DuckDB cannot read makes the whole read fail; the
 * caller then validates line by line (`validateLines`).
 */
function typedRecords(paths: string[], root: string): string {
  const eventCols = BRONZE_EVENTS.columns.filter((c) => c.name !== 'ingested_at' && c.name !== 'source_file');
  const list = paths.map((p) => quoteLiteral(p)).join(', ');
  const prefixLen = root.length + 1;
  const missing = REQUIRED.map((n) => `WHEN ${n} IS NULL THEN 'missing_field'`).join(' ');
  const columns = eventCols
    .map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(duckdbType(c.type))}`)
    .join(', ');
  return `(SELECT *, substr(filename, ${prefixLen + 1}) AS source_file, CAST(NULL AS BIGINT) AS source_line,
             CASE ${missing} ELSE NULL END AS reason, CAST(NULL AS VARCHAR) AS raw
      FROM read_json([${list}], format = 'newline_delimited', filename = true, columns = {${columns}}))`;
}

/** A landing file has a line over the record size limit (handled by `validateLines`). */
class OversizedLineError extends Error {
  constructor(readonly file: string) {
    super(`${file} has a line over ${LIMITS.maxEventBytes} bytes`);
    this.name = 'OversizedLineError';
  }
}

/**
 * True if a line of the file is longer than `max` bytes. Jumps `max` bytes at a time and looks
 * back for a newline (`lastIndexOf`), so the cost is one pass over the bytes in native code
 * with a JS call per `max` bytes, not per line.
 */
export async function hasLineLongerThan(
  path: string,
  max: number,
  chunkBytes = 4 * 1024 * 1024,
): Promise<boolean> {
  let carry = 0; // bytes of the current line seen in earlier chunks
  for await (const raw of createReadStream(path, { highWaterMark: chunkBytes })) {
    if (carry > max) return true;
    const chunk = raw as Buffer;
    let start = -carry; // start of the current line, relative to this chunk
    for (;;) {
      const limit = start + max; // the line must end at or before this index
      if (limit >= chunk.length) break;
      const nl = chunk.lastIndexOf(0x0a, limit);
      if (nl < start || nl < 0) return true;
      start = nl + 1;
    }
    const lastNl = chunk.lastIndexOf(0x0a);
    carry = lastNl >= 0 && lastNl >= start ? chunk.length - lastNl - 1 : chunk.length - start;
  }
  return carry > max;
}

/** A landing line rejected by `validateLines`, as written to `ops.rejected_events`. */
interface RejectedLine {
  readonly event_id: string | null;
  readonly reason: string;
  readonly source_file: string;
  readonly source_line: number;
}

/**
 * Validates every line of the files with `validateLakeRecord` (the Firehose transformation's
 * check). Valid events are written, normalised, to a mirror of each file under `cleanRoot`
 * (same relative path, so `source_file` is unchanged); rejected lines are returned with their
 * file and 1-based line number. Streams the files: memory stays bounded by the longest line.
 */
async function validateLines(
  paths: string[],
  root: string,
  cleanRoot: string,
  arrivalMs: number,
): Promise<{ clean: string[]; rejected: RejectedLine[] }> {
  const clean: string[] = [];
  const rejected: RejectedLine[] = [];
  for (const path of paths) {
    const rel = relative(root, path);
    const target = join(cleanRoot, rel);
    mkdirSync(dirname(target), { recursive: true });
    const out = createWriteStream(target);
    let lineNo = 0;
    const handle = async (line: Buffer): Promise<void> => {
      lineNo += 1;
      const body = line.at(-1) === 0x0d ? line.subarray(0, -1) : line;
      if (body.length === 0 || body.toString('latin1').trim() === '') return;
      const r = validateLakeRecord(body, arrivalMs);
      if (r.ok) {
        if (!out.write(`${JSON.stringify(r.event)}\n`)) await once(out, 'drain');
        return;
      }
      rejected.push({
        event_id: r.eventId ?? null,
        reason: `${r.reason}: ${r.detail}; line: ${recordExcerpt(body)}`,
        source_file: rel,
        source_line: lineNo,
      });
    };
    let rest: Buffer = Buffer.alloc(0);
    for await (const chunk of createReadStream(path)) {
      let data = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
      let nl = data.indexOf(0x0a);
      while (nl >= 0) {
        await handle(data.subarray(0, nl));
        data = data.subarray(nl + 1);
        nl = data.indexOf(0x0a);
      }
      // A line far over the limit is rejected without buffering all of it.
      if (data.length > LIMITS.maxEventBytes * 4) {
        rest = data.subarray(0, LIMITS.maxEventBytes + 1);
      } else {
        rest = Buffer.from(data);
      }
    }
    if (rest.length > 0) await handle(rest); // last line without a newline (e.g. truncated)
    out.end();
    await once(out, 'close');
    clean.push(target);
  }
  return { clean, rejected };
}

async function appendFiles(
  engine: DuckdbEngine,
  paths: string[],
  processingRoot: string,
  runId: string,
  now: Date,
  skip: { bronze?: ReadonlySet<string>; rejected?: ReadonlySet<string> } = {},
): Promise<{ rows: number; rejected: number }> {
  const conn = engine.connection;
  const ingestedAt = `TIMESTAMPTZ ${quoteLiteral(now.toISOString())}`;
  const select = BRONZE_EVENTS.columns
    .map((c) => {
      if (c.name === 'ingested_at') return `${ingestedAt} AS ingested_at`;
      if (c.name === 'schema_version') return 'coalesce(schema_version, 1) AS schema_version';
      return c.name;
    })
    .join(', ');
  const bronze = await engine.table('bronze.events');
  const rejectedOps = await engine.table('ops.rejected_events');
  const fast = typedRecords(paths, processingRoot);
  const cleanRoot = join(dirname(processingRoot), '_validated');
  /** The line-checked path, computed at most once: valid lines' relation and rejected lines. */
  let slow: { from: string; lineRejects: RejectedLine[] } | undefined;
  const lineChecked = async () => {
    if (!slow) {
      const checked = await validateLines(paths, processingRoot, cleanRoot, now.getTime());
      slow = { from: typedRecords(checked.clean, cleanRoot), lineRejects: checked.rejected };
    }
    return slow;
  };
  let good: CommitResult;
  try {
    try {
      // DuckDB reads an oversized line without complaint: find those first (cheap, see below).
      for (const p of paths) {
        if (await hasLineLongerThan(p, LIMITS.maxEventBytes)) throw new OversizedLineError(p);
      }
      good = await bronze.appendQuery(
        conn,
        `SELECT ${select} FROM ${fast} WHERE reason IS NULL${notIn(skip.bronze)}`,
      );
    } catch (error: unknown) {
      if (error instanceof CommitConflictError) throw error;
      // A line DuckDB cannot read or too long (poison): validate each line, load the valid ones.
      const { from } = await lineChecked();
      good = await bronze.appendQuery(
        conn,
        `SELECT ${select} FROM ${from} WHERE reason IS NULL${notIn(skip.bronze)}`,
      );
    }
    faultPoint('landing:bronze-committed');
    // Every rejected record of these files — the typed read's (a missing required field) and
    // the line check's (malformed, not UTF-8, over the size limit, against the contract) — in
    // ONE commit: recovery adds a file's rejected records only when ops.rejected_events holds
    // none of that file, which is exact only if they are all committed together.
    let bad: CommitResult | undefined;
    if (!slow) {
      // When recovering a load whose bronze commit was done, the bronze read above skipped
      // those files (DuckDB prunes files by the source_file filter) and says nothing about them:
      // a file the typed read cannot parse fails here, before anything is committed, and the
      // rejected records then come from the line check.
      try {
        bad = await rejectedOps.appendQuery(
          conn,
          `SELECT ${quoteLiteral(runId)} AS run_id, event_id, event_type, event_time,
                  reason || coalesce(': ' || left(raw, 500), '') AS reason, ${ingestedAt} AS ingested_at, source_file,
                  source_line
           FROM ${fast} WHERE reason IS NOT NULL${notIn(skip.rejected)}`,
        );
      } catch (error: unknown) {
        if (error instanceof CommitConflictError) throw error;
        await lineChecked();
      }
    }
    if (slow) {
      const rejectSelects = [
        `SELECT ${quoteLiteral(runId)} AS run_id, event_id, event_type, event_time,
                reason || coalesce(': ' || left(raw, 500), '') AS reason, ${ingestedAt} AS ingested_at, source_file,
                source_line
         FROM ${slow.from} WHERE reason IS NOT NULL${notIn(skip.rejected)}`,
      ];
      if (slow.lineRejects.length > 0) {
        const file = join(cleanRoot, `rejected-${randomUUID()}.jsonl`);
        mkdirSync(cleanRoot, { recursive: true });
        writeFileSync(file, `${slow.lineRejects.map((r) => JSON.stringify(r)).join('\n')}\n`);
        rejectSelects.push(
          `SELECT ${quoteLiteral(runId)} AS run_id, event_id, CAST(NULL AS VARCHAR) AS event_type,
                  CAST(NULL AS TIMESTAMPTZ) AS event_time, reason, ${ingestedAt} AS ingested_at, source_file,
                  source_line
           FROM read_json(${quoteLiteral(file)}, format = 'newline_delimited',
                          columns = {event_id: 'VARCHAR', reason: 'VARCHAR', source_file: 'VARCHAR', source_line: 'BIGINT'})
           WHERE TRUE${notIn(skip.rejected)}`,
        );
      }
      bad = await rejectedOps.appendQuery(conn, rejectSelects.join('\nUNION ALL\n'));
    }
    faultPoint('landing:rejected-committed');
    const rejected = bad?.addedRecords ?? 0;
    await engine.table('bronze.events');
    await engine.table('ops.rejected_events');
    return { rows: good.addedRecords, rejected };
  } finally {
    rmSync(cleanRoot, { recursive: true, force: true });
  }
}

/**
 * Writes normalised events the way the local Firehose lands them (NDJSON part files per UTC
 * event date). Used by benchmarks and tests that start from landed data without the stream.
 */
export function writeLandingFiles<T extends { readonly event_time: string }>(
  lakeDir: string,
  events: Iterable<T>,
  options: { part?: string } = {},
): { files: number; records: number } {
  const byDate = new Map<string, string[]>();
  let records = 0;
  for (const e of events) {
    const date = new Date(Date.parse(e.event_time)).toISOString().slice(0, 10);
    let lines = byDate.get(date);
    if (!lines) {
      lines = [];
      byDate.set(date, lines);
    }
    lines.push(JSON.stringify(e));
    records++;
  }
  const part = options.part ?? `part-${Date.now()}-${randomUUID().slice(0, 6)}.jsonl`;
  for (const [date, lines] of byDate) {
    const dir = join(lakeDir, LAKE_PREFIXES.landingEvents, `event_date=${date}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, part), `${lines.join('\n')}\n`);
  }
  return { files: byDate.size, records };
}
