/**
 * Trino, the engine Athena (engine v3) is built on: a small client of its HTTP protocol and the
 * translations shoplake needs to run its Athena SQL there unchanged.
 *
 *  - `TrinoClient`: `POST /v1/statement`, follow `nextUri` until the query finishes, typed
 *    errors. (The `trino-cli` start-up costs 6–9 s per call; the protocol costs nothing.)
 *  - `trinoStatement`: Athena execution parameters (positional `?` with SQL-literal values)
 *    become `EXECUTE IMMEDIATE '<sql>' USING <literal>, …`, Trino's spelling of the same thing.
 *  - `trinoMaintenanceStatements`: Athena's Iceberg maintenance syntax (`OPTIMIZE … REWRITE
 *    DATA USING BIN_PACK`, `VACUUM …`) is Athena-only; Trino's equivalents are `ALTER TABLE …
 *    EXECUTE optimize` and `… EXECUTE expire_snapshots` / `remove_orphan_files`, with the
 *    retention the catalog gives the table (the same one Athena's VACUUM reads from
 *    `vacuum_max_snapshot_age_seconds`).
 *  - `trinoCreateTable`: the catalog's tables as Trino Iceberg DDL (partitioning, sort order).
 *
 * Used by the Trino test tier (`test/trino/`), which runs every `athena/*.sql` on a real Trino.
 */

import type { IcebergType } from '../../lambdas/shared/catalog/index.ts';
import { getTable, qualifiedName } from '../../lambdas/shared/catalog/index.ts';
import { tokenize } from '../../lambdas/shared/catalog/sql.ts';
import type { TableSpec } from '../../lambdas/shared/catalog/types.ts';
import { retryWithBackoff } from '../../lambdas/shared/retry.ts';

export interface TrinoColumn {
  readonly name: string;
  readonly type: string;
}

export interface TrinoResult {
  readonly queryId: string;
  readonly columns: readonly TrinoColumn[];
  /** Rows as objects keyed by column name (values as Trino's JSON encodes them). */
  readonly rows: Record<string, unknown>[];
  /** `INSERT`, `MERGE`, `DELETE`, `CREATE TABLE`… for statements that are not queries. */
  readonly updateType?: string;
  readonly updateCount?: number;
  readonly elapsedMs: number;
}

export class TrinoQueryError extends Error {
  constructor(
    readonly queryId: string,
    readonly errorName: string,
    message: string,
    readonly sql: string,
  ) {
    super(`Trino query ${queryId} failed (${errorName}): ${message}`);
    this.name = 'TrinoQueryError';
  }
}

export interface TrinoClientOptions {
  /** Coordinator URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly user?: string;
  readonly catalog?: string;
  readonly schema?: string;
  /** Give up on a query after this long. @default 600_000 */
  readonly timeoutMs?: number;
}

interface ProtocolResponse {
  id: string;
  nextUri?: string;
  columns?: { name: string; type: string }[];
  data?: unknown[][];
  updateType?: string;
  updateCount?: number;
  stats?: { state?: string };
  error?: { message?: string; errorName?: string };
}

export class TrinoClient {
  private readonly o: Required<Omit<TrinoClientOptions, 'schema'>> & { schema?: string };

  constructor(options: TrinoClientOptions) {
    this.o = { user: 'shoplake', catalog: 'iceberg', timeoutMs: 600_000, ...options };
  }

  /** Runs one statement to completion and returns all its rows. */
  async execute(sql: string): Promise<TrinoResult> {
    const started = performance.now();
    const headers: Record<string, string> = {
      'X-Trino-User': this.o.user,
      'X-Trino-Catalog': this.o.catalog,
      'X-Trino-Source': 'shoplake',
    };
    if (this.o.schema) headers['X-Trino-Schema'] = this.o.schema;
    let response = await this.request(`${this.o.url}/v1/statement`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'text/plain' },
      body: sql,
    });
    let columns: TrinoColumn[] = [];
    const data: unknown[][] = [];
    for (;;) {
      if (response.columns && columns.length === 0) columns = response.columns.map((c) => ({ ...c }));
      if (response.data) data.push(...response.data);
      if (response.error) {
        throw new TrinoQueryError(
          response.id,
          response.error.errorName ?? 'UNKNOWN',
          response.error.message ?? 'no message',
          sql,
        );
      }
      if (!response.nextUri) break;
      if (performance.now() - started > this.o.timeoutMs) {
        await fetch(response.nextUri, { method: 'DELETE' }).catch(() => undefined);
        throw new TrinoQueryError(response.id, 'TIMEOUT', `still running after ${this.o.timeoutMs} ms`, sql);
      }
      response = await this.request(response.nextUri, { method: 'GET', headers });
    }
    const rows = data.map((cells) => Object.fromEntries(columns.map((c, i) => [c.name, cells[i] ?? null])));
    return {
      queryId: response.id,
      columns,
      rows,
      ...(response.updateType ? { updateType: response.updateType } : {}),
      ...(response.updateCount !== undefined ? { updateCount: response.updateCount } : {}),
      elapsedMs: Math.round(performance.now() - started),
    };
  }

  /** Runs a query and returns its rows. */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    return (await this.execute(sql)).rows;
  }

  private async request(url: string, init: RequestInit): Promise<ProtocolResponse> {
    // 503 means "busy, retry" in the protocol.
    const outcome = await retryWithBackoff<Response, number>(
      { maxAttempts: 21, baseMs: 50, capMs: 1_000, jitter: 'equal' },
      async () => {
        const res = await fetch(url, init);
        return res.status === 503 ? { retry: res.status } : { done: res };
      },
    );
    if (!outcome.ok)
      throw new Error(
        `Trino ${init.method ?? 'GET'} ${url}: still busy (503) after ${outcome.attempts} tries`,
      );
    const res = outcome.value;
    const text = await res.text();
    if (!res.ok)
      throw new Error(`Trino ${init.method ?? 'GET'} ${url}: HTTP ${res.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as ProtocolResponse;
  }
}

/** A Trino string literal. */
export function trinoStringLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * The statement Trino runs for an Athena query string with positional `?` parameters and
 * Athena `ExecutionParameters` (SQL literals such as `'2026-11-21'`, `42`, `NULL`).
 * Throws when the counts differ, as Athena does.
 */
export function trinoStatement(queryString: string, executionParameters: readonly string[] = []): string {
  const placeholders = tokenize(queryString).filter((t) => t.type === 'param' && t.text === '?').length;
  if (placeholders !== executionParameters.length) {
    throw new Error(
      `statement has ${placeholders} ? placeholders but ${executionParameters.length} execution parameters`,
    );
  }
  if (placeholders === 0) return queryString;
  return `EXECUTE IMMEDIATE ${trinoStringLiteral(queryString)} USING ${executionParameters.join(', ')}`;
}

const OPTIMIZE =
  /^\s*OPTIMIZE\s+([A-Za-z0-9_."]+)\s+REWRITE\s+DATA\s+USING\s+BIN_PACK(\s+WHERE\s+[\s\S]+?)?\s*;?\s*$/i;
const VACUUM = /^\s*VACUUM\s+([A-Za-z0-9_."]+)\s*;?\s*$/i;

/** Snapshot retention of a catalog table in Trino's duration syntax (`7d`, `36h`…). */
function retentionOf(table: string): string {
  let spec: TableSpec | undefined;
  try {
    spec = getTable(table.replace(/"/g, ''));
  } catch {
    spec = undefined;
  }
  const ms = Number(spec?.properties['history.expire.max-snapshot-age-ms'] ?? 7 * 86_400_000);
  const hours = Math.max(1, Math.round(ms / 3_600_000));
  return hours % 24 === 0 ? `${hours / 24}d` : `${hours}h`;
}

/**
 * Trino's statements for an Athena Iceberg maintenance statement, or `undefined` when `sql` is
 * not one. `OPTIMIZE t REWRITE DATA USING BIN_PACK [WHERE …]` → `ALTER TABLE t EXECUTE optimize
 * [WHERE …]`; `VACUUM t` (Athena: expire snapshots older than the table's
 * `vacuum_max_snapshot_age_seconds`, then delete orphan files) → `expire_snapshots` and
 * `remove_orphan_files` with the table's retention. (Trino refuses a retention below its
 * `iceberg.expire-snapshots.min-retention`, 7 days by default.)
 */
export function trinoMaintenanceStatements(sql: string): string[] | undefined {
  const optimize = OPTIMIZE.exec(sql);
  if (optimize) {
    const where = optimize[2] ? ` ${optimize[2].trim()}` : '';
    return [`ALTER TABLE ${optimize[1]} EXECUTE optimize${where}`];
  }
  const vacuum = VACUUM.exec(sql);
  if (vacuum) {
    const table = vacuum[1] ?? '';
    const retention = trinoStringLiteral(retentionOf(table));
    return [
      `ALTER TABLE ${table} EXECUTE expire_snapshots(retention_threshold => ${retention})`,
      `ALTER TABLE ${table} EXECUTE remove_orphan_files(retention_threshold => ${retention})`,
    ];
  }
  return undefined;
}

/** Trino type of an Iceberg type (`timestamptz` is `timestamp(6) with time zone`). */
export function trinoType(t: IcebergType | string): string {
  if (typeof t === 'string') {
    switch (t) {
      case 'string':
        return 'varchar';
      case 'int':
        return 'integer';
      case 'long':
        return 'bigint';
      case 'float':
        return 'real';
      case 'timestamptz':
        return 'timestamp(6) with time zone';
      case 'timestamp':
        return 'timestamp(6)';
      default:
        // double, boolean, date, decimal(p,s)
        return t.replace(/\s+/g, '');
    }
  }
  if (t.type === 'list') return `array(${trinoType(t.element)})`;
  if (t.type === 'map') return `map(${trinoType(t.key)}, ${trinoType(t.value)})`;
  return `row(${t.fields.map((f) => `"${f.name}" ${trinoType(f.type)}`).join(', ')})`;
}

function trinoPartition(p: TableSpec['partitionSpec'][number]): string {
  const bucket = /^bucket\[(\d+)\]$/.exec(p.transform);
  if (bucket) return `bucket(${p.column}, ${bucket[1]})`;
  const truncate = /^truncate\[(\d+)\]$/.exec(p.transform);
  if (truncate) return `truncate(${p.column}, ${truncate[1]})`;
  return p.transform === 'identity' ? p.column : `${p.transform}(${p.column})`;
}

/** Trino Iceberg `CREATE TABLE` of one catalog table (in the engine's default location). */
export function trinoCreateTable(table: TableSpec): string {
  const cols = table.columns
    .map((c) => `  "${c.name}" ${trinoType(c.type)}${c.required ? ' NOT NULL' : ''}`)
    .join(',\n');
  const props = ["format = 'PARQUET'", 'format_version = 2'];
  if (table.partitionSpec.length > 0) {
    props.push(
      `partitioning = ARRAY[${table.partitionSpec.map((p) => trinoStringLiteral(trinoPartition(p))).join(', ')}]`,
    );
  }
  if (table.sortOrder.length > 0) {
    props.push(
      `sorted_by = ARRAY[${table.sortOrder
        .map((s) =>
          trinoStringLiteral(
            `${s.column} ${s.direction.toUpperCase()} ${s.nullOrder === 'nulls-first' ? 'NULLS FIRST' : 'NULLS LAST'}`,
          ),
        )
        .join(', ')}]`,
    );
  }
  return `CREATE TABLE IF NOT EXISTS ${qualifiedName(table)} (\n${cols}\n) WITH (${props.join(', ')})`;
}
