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
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { LAKE_PREFIXES } from '../../infra/definitions/resources.ts';
import { BRONZE_EVENTS } from '../../lambdas/shared/catalog/index.ts';
import type { IcebergType } from '../../lambdas/shared/event-schema.ts';
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

/** JSON-transform structure (DuckDB) of an Iceberg type. */
function jsonStructure(t: IcebergType): unknown {
  if (typeof t === 'string') {
    switch (t) {
      case 'int':
        return 'INTEGER';
      case 'long':
        return 'BIGINT';
      case 'double':
        return 'DOUBLE';
      case 'boolean':
        return 'BOOLEAN';
      default:
        return 'VARCHAR'; // timestamps and dates are cast explicitly (TRY_CAST)
    }
  }
  if (t.type === 'list') return [jsonStructure(t.element)];
  if (t.type === 'map') return 'MAP(VARCHAR, VARCHAR)';
  return Object.fromEntries(t.fields.map((f) => [f.name, jsonStructure(f.type)]));
}

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
 * The files' records as a relation with a `reason` column (NULL = loadable). Fast path: DuckDB's
 * typed NDJSON reader, streamed straight into the commit (no staging copy). If a value does not
 * fit its column the typed read fails as a whole, and the slow path parses each record on its
 * own (staged in a temp table) to find and reject exactly the bad ones.
 */
async function stageRecords(
  engine: DuckdbEngine,
  paths: string[],
  processingRoot: string,
  stage: string,
  fast: boolean,
): Promise<{ from: string; cleanup: () => Promise<void> }> {
  const conn = engine.connection;
  const eventCols = BRONZE_EVENTS.columns.filter((c) => c.name !== 'ingested_at' && c.name !== 'source_file');
  const list = paths.map((p) => quoteLiteral(p)).join(', ');
  const prefixLen = processingRoot.length + 1;
  const missing = REQUIRED.map((n) => `WHEN ${n} IS NULL THEN 'missing_field'`).join(' ');
  const columns = eventCols
    .map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(duckdbType(c.type))}`)
    .join(', ');
  const typed = `(SELECT *, substr(filename, ${prefixLen + 1}) AS source_file, CASE ${missing} ELSE NULL END AS reason,
             CAST(NULL AS VARCHAR) AS raw
      FROM read_json([${list}], format = 'newline_delimited', filename = true, columns = {${columns}}))`;
  if (fast) return { from: typed, cleanup: async () => undefined };
  const structure = JSON.stringify(Object.fromEntries(eventCols.map((c) => [c.name, jsonStructure(c.type)])));
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${stage}_raw AS
    SELECT substr(filename, ${prefixLen + 1}) AS source_file, json AS raw, json_transform(json, ${quoteLiteral(structure)}) AS t
    FROM read_ndjson_objects([${list}], filename = true)`);
  try {
    // A field is invalid when the record has a value for it that did not convert.
    const invalid = eventCols
      .map((c) => {
        const path = quoteLiteral(`$.${c.name}`);
        const present = `(json_type(raw, ${path}) IS NOT NULL AND json_type(raw, ${path}) <> 'NULL')`;
        const converted =
          c.type === 'timestamptz'
            ? `TRY_CAST(t.${c.name} AS TIMESTAMPTZ) IS NOT NULL`
            : `t.${c.name} IS NOT NULL`;
        return `WHEN ${present} AND NOT (${converted}) THEN 'invalid_field'`;
      })
      .join(' ');
    const typedCols = eventCols
      .map(
        (c) =>
          `${c.type === 'timestamptz' ? `TRY_CAST(t.${c.name} AS TIMESTAMPTZ)` : `t.${c.name}`} AS ${c.name}`,
      )
      .join(', ');
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${stage} AS
      SELECT ${typedCols}, source_file,
             CASE ${invalid} ${REQUIRED.map((n) => `WHEN t.${n} IS NULL THEN 'missing_field'`).join(' ')} ELSE NULL END AS reason,
             CAST(raw AS VARCHAR) AS raw
      FROM ${stage}_raw`);
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${stage}_raw`);
  }
  return {
    from: stage,
    cleanup: async () => {
      await conn.run(`DROP TABLE IF EXISTS ${stage}`);
    },
  };
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
  const stage = '__shoplake_landing';
  const ingestedAt = `TIMESTAMPTZ ${quoteLiteral(now.toISOString())}`;
  const select = BRONZE_EVENTS.columns
    .map((c) => {
      if (c.name === 'ingested_at') return `${ingestedAt} AS ingested_at`;
      if (c.name === 'schema_version') return 'coalesce(schema_version, 1) AS schema_version';
      return c.name;
    })
    .join(', ');
  const bronze = await engine.table('bronze.events');
  let staged = await stageRecords(engine, paths, processingRoot, stage, true);
  let good: CommitResult;
  try {
    good = await bronze.appendQuery(
      conn,
      `SELECT ${select} FROM ${staged.from} WHERE reason IS NULL${notIn(skip.bronze)}`,
    );
  } catch (error: unknown) {
    if (error instanceof CommitConflictError) throw error;
    // A value that does not fit its column: find the bad records one by one.
    staged = await stageRecords(engine, paths, processingRoot, stage, false);
    good = await bronze.appendQuery(
      conn,
      `SELECT ${select} FROM ${staged.from} WHERE reason IS NULL${notIn(skip.bronze)}`,
    );
  }
  faultPoint('landing:bronze-committed');
  try {
    const rejectedOps = await engine.table('ops.rejected_events');
    const bad = await rejectedOps.appendQuery(
      conn,
      `SELECT ${quoteLiteral(runId)} AS run_id, event_id, event_type, event_time,
              reason || coalesce(': ' || left(raw, 500), '') AS reason, ${ingestedAt} AS ingested_at, source_file
       FROM ${staged.from} WHERE reason IS NOT NULL${notIn(skip.rejected)}`,
    );
    await engine.table('bronze.events');
    await engine.table('ops.rejected_events');
    return { rows: good.addedRecords, rejected: bad.addedRecords };
  } finally {
    await staged.cleanup();
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
