// Interoperability is the acceptance test of the local Iceberg library: the reference reader
// pyiceberg (Python, from .venv) and the independent JavaScript reader icebird must read
// shoplake's tables with the same schema and rows — current snapshot, a past snapshot, and
// after a column was added.
import { execFile } from 'node:child_process';
import { access, cp, mkdtemp, open, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { icebergRead } from 'icebird';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  duckdbScanSql,
  type IcebergTable,
  LocalIcebergCatalog,
  type TableSpec,
} from '../../local/iceberg/index.ts';
import { relocateTable } from '../../local/iceberg/relocate.ts';
import type { IcebergJsonType, IcebergSchema } from '../../local/iceberg/schema.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const READER = path.join(import.meta.dirname, 'helpers', 'pyiceberg_read.py');

const SPEC: TableSpec = {
  columns: [
    { id: 1, name: 'event_id', type: 'string', required: true },
    { id: 2, name: 'event_time', type: 'timestamptz', required: true },
    { id: 3, name: 'country', type: 'string', required: false },
    { id: 4, name: 'quantity', type: 'int', required: false },
    { id: 5, name: 'views', type: 'long', required: false },
    { id: 6, name: 'price', type: 'double', required: false },
    { id: 7, name: 'is_member', type: 'boolean', required: false },
    { id: 8, name: 'signup_date', type: 'date', required: false },
    { id: 9, name: 'amount', type: 'decimal(9,2)', required: false },
    {
      id: 10,
      name: 'items',
      type: {
        type: 'list',
        element: {
          type: 'struct',
          fields: [
            { name: 'product_id', type: 'string', required: true },
            { name: 'quantity', type: 'int', required: false },
          ],
        },
      },
      required: false,
    },
    { id: 11, name: 'attributes', type: { type: 'map', key: 'string', value: 'string' }, required: false },
    {
      id: 12,
      name: 'device',
      type: {
        type: 'struct',
        fields: [
          { name: 'kind', type: 'string', required: false },
          { name: 'width', type: 'int', required: false },
        ],
      },
      required: false,
    },
    // Money as shoplake's gold stores it: precision > 18 (16-byte Parquet decimal), negatives.
    { id: 13, name: 'total', type: 'decimal(38,2)', required: false },
  ],
  partitionBy: [
    { sourceColumn: 'event_time', transform: 'day' },
    { sourceColumn: 'country', transform: 'identity' },
  ],
  sortBy: [{ column: 'event_id', direction: 'asc' }],
  // Low threshold so the third append merges manifests (EXISTING entries) before readers see it.
  properties: { 'commit.manifest.min-count-to-merge': '3' },
};

/** Rows of one batch: `n` events spread over three days and three countries (one NULL). */
function batchSql(prefix: string, n: number, withChannel = false): string {
  return `SELECT '${prefix}' || lpad(i::VARCHAR, 3, '0') AS event_id,
      TIMESTAMPTZ '2026-11-19 08:00:00.123+00' + to_minutes(i * 677) AS event_time,
      CASE i % 4 WHEN 0 THEN 'DE' WHEN 1 THEN 'FR' WHEN 2 THEN 'GB' ELSE NULL END AS country,
      CASE WHEN i % 5 = 0 THEN NULL ELSE i::INT END AS quantity,
      (i * 1000000007)::BIGINT AS views,
      i * 1.25 AS price,
      i % 2 = 0 AS is_member,
      DATE '2020-01-01' + i::INT AS signup_date,
      (i * 3.5)::DECIMAL(9,2) AS amount,
      CASE WHEN i % 3 = 0 THEN NULL ELSE [{'product_id': 'p' || i, 'quantity': i::INT}, {'product_id': 'q', 'quantity': NULL}] END AS items,
      MAP {'utm': 'u' || (i % 2), 'ref': 'r'} AS attributes,
      {'kind': CASE WHEN i % 2 = 0 THEN 'mobile' ELSE 'desktop' END, 'width': (300 + i)::INT} AS device,
      (i * 1234567890.125 - 200.5)::DECIMAL(38,2) AS total
      ${withChannel ? `, 'ch' || (i % 3) AS channel` : ''}
    FROM range(${n}) t(i)`;
}

type Canon = null | string | number | boolean | Canon[] | { [k: string]: Canon };

function isoMillis(d: Date): string {
  return d.toISOString();
}

/** Canonical form of a value read by DuckDB (JSON) or icebird (hyparquet), by Iceberg type. */
function canon(value: unknown, type: IcebergJsonType): Canon {
  if (value === null || value === undefined) return null;
  if (typeof type === 'string') {
    if (type === 'timestamptz' || type === 'timestamp') {
      if (value instanceof Date) return isoMillis(value);
      return isoMillis(new Date(String(value)));
    }
    if (type === 'date') {
      if (value instanceof Date) return value.toISOString().slice(0, 10);
      return String(value).slice(0, 10);
    }
    if (type.startsWith('decimal')) {
      const scale = Number(/,\s*(\d+)\)/.exec(type)?.[1] ?? 0);
      return Number(value).toFixed(scale);
    }
    if (type === 'long' || type === 'int' || type === 'double' || type === 'float') return Number(value);
    if (type === 'boolean') return Boolean(value);
    return String(value);
  }
  if (type.type === 'list') {
    return (value as unknown[]).map((v) => canon(v, type.element));
  }
  if (type.type === 'map') {
    const entries: [string, unknown][] = Array.isArray(value)
      ? (value as { key: unknown; value: unknown }[]).map((kv) => [String(kv.key), kv.value])
      : Object.entries(value as Record<string, unknown>);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, canon(v, type.value)]));
  }
  const obj = value as Record<string, unknown>;
  return Object.fromEntries(type.fields.map((f) => [f.name, canon(obj[f.name], f.type)]));
}

function canonRows(rows: Record<string, unknown>[], schema: IcebergSchema): Canon[] {
  return rows
    .map((r) => Object.fromEntries(schema.fields.map((f) => [f.name, canon(r[f.name], f.type)])))
    .sort((a, b) => String(a.event_id).localeCompare(String(b.event_id)));
}

function sortById(rows: Canon[]): Canon[] {
  return [...rows].sort((a, b) =>
    String((a as Record<string, Canon>).event_id).localeCompare(
      String((b as Record<string, Canon>).event_id),
    ),
  );
}

/**
 * pyiceberg 0.12 turns a NULL list of structs into an empty list when it projects the Arrow
 * table (`ArrowProjectionVisitor.list` rebuilds the array with `LargeListArray.from_arrays(
 * offsets, values)` and no null mask, a workaround for apache/arrow#38809). The Parquet files
 * hold real NULLs (icebird, DuckDB and plain pyarrow read them as NULL), so for pyiceberg only
 * the expected NULL `items` become [].
 */
function asPyicebergReads(rows: Canon[] | undefined): Canon[] {
  return (rows ?? []).map((r) => {
    const row = r as Record<string, Canon>;
    return row.items === null ? { ...row, items: [] } : row;
  });
}

/** pyiceberg row filters on each primitive column type, with the same predicate in JS. */
const COLUMN_FILTERS: [string, (r: Record<string, Canon>) => boolean][] = [
  ["event_id >= 'b003'", (r) => String(r.event_id) >= 'b003'],
  ['quantity = 3', (r) => r.quantity === 3],
  ['views > 5000000000', (r) => Number(r.views) > 5_000_000_000],
  ['price < 3.0', (r) => r.price !== null && Number(r.price) < 3],
  ['is_member = true', (r) => r.is_member === true],
  ["signup_date < '2020-01-05'", (r) => r.signup_date !== null && String(r.signup_date) < '2020-01-05'],
  ["amount >= '20.50'", (r) => r.amount !== null && Number(r.amount) >= 20.5],
  ["total < '-100.00'", (r) => r.total !== null && Number(r.total) < -100],
  ["total > '10000000000.00'", (r) => r.total !== null && Number(r.total) > 10_000_000_000],
  ["country = 'FR'", (r) => r.country === 'FR'],
  ['country IS NULL', (r) => r.country === null],
  ["channel = 'ch1'", (r) => r.channel === 'ch1'],
];

interface PyRead {
  schema: IcebergSchema;
  spec: { 'source-id': number; 'field-id': number; name: string; transform: string }[];
  snapshots: { id: number; operation: string }[];
  reads: Record<string, { rows: Canon[]; files: number }>;
  filtered?: { rows: Canon[]; files: number };
  filters: Record<string, { rows: Canon[]; files: number }>;
}

async function pyiceberg(
  metadataFile: string,
  snapshotIds: number[],
  filterDayFrom?: string,
  filters: string[] = [],
): Promise<PyRead> {
  const args = [READER, metadataFile, ...snapshotIds.flatMap((s) => ['--snapshot', String(s)])];
  if (filterDayFrom) args.push('--filter-day-from', filterDayFrom);
  for (const f of filters) args.push('--filter', f);
  const { stdout } = await promisify(execFile)(PYTHON, args, {
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as PyRead;
}

/**
 * Node 20's fetch has no file:// support; icebird and hyparquet read through fetch, so serve
 * local files (with Range requests, as hyparquet reads Parquet footers and column chunks).
 */
function installFileFetch(): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('file://')) return original(input, init);
    const file = url.slice('file://'.length);
    try {
      await access(file);
    } catch {
      return new Response('not found', { status: 404, statusText: 'Not Found' });
    }
    const range = new Headers(init?.headers).get('range');
    if (range) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      if (!m) return new Response('bad range', { status: 416 });
      const start = Number(m[1]);
      const handle = await open(file, 'r');
      try {
        const size = (await handle.stat()).size;
        const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
        const buf = Buffer.alloc(Math.max(0, end - start + 1));
        await handle.read(buf, 0, buf.length, start);
        return new Response(buf, {
          status: 206,
          headers: { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': String(buf.length) },
        });
      } finally {
        await handle.close();
      }
    }
    const body = await readFile(file);
    return new Response(body, { status: 200, headers: { 'content-length': String(body.length) } });
  }) as typeof fetch;
  return () => {
    globalThis.fetch = original;
  };
}

let instance: DuckDBInstance;
let conn: DuckDBConnection;
let warehouse: string;
let table: IcebergTable;
let restoreFetch: () => void;
const snap: Record<string, number> = {};
const expected: Record<string, Canon[]> = {};
let schemaV0: IcebergSchema;

async function sourceRows(sql: string, schema: IcebergSchema): Promise<Canon[]> {
  const r = await conn.runAndReadAll(sql);
  return canonRows(await r.getRowObjectsJson(), schema);
}

beforeAll(async () => {
  try {
    await access(PYTHON);
  } catch {
    throw new Error(
      `pyiceberg interop test needs ${PYTHON}: run \`bash scripts/setup-test-tools.sh\` (npm test does it) to install pyiceberg`,
    );
  }
  restoreFetch = installFileFetch();
  instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  conn = await instance.connect();
  warehouse = await mkdtemp(path.join(tmpdir(), 'iceberg-interop-'));
  const catalog = new LocalIcebergCatalog(warehouse);
  table = await catalog.createTable('silver.interop_events', SPEC);
  schemaV0 = table.schema();

  // Snapshot 1 and 2: appends. Then add a column, append with it, overwrite one partition.
  snap.first = (await table.appendQuery(conn, batchSql('a', 12))).snapshotId;
  expected.first = await sourceRows(batchSql('a', 12), schemaV0);
  snap.second = (await table.appendQuery(conn, batchSql('b', 7))).snapshotId;
  await table.addColumn('channel', 'string');
  snap.third = (await table.appendQuery(conn, batchSql('c', 5, true))).snapshotId;
  // Overwrite the DE rows of 2026-11-19 with one new row (copy-on-write of that partition only).
  const replacement = `SELECT * REPLACE ('z000' AS event_id) FROM (${batchSql('z', 1, true)})`;
  snap.overwrite = (await table.overwriteQuery(conn, replacement, { partitions: 'affected' })).snapshotId;

  const current = table.schema();
  const withChannel = (sql: string, has: boolean) =>
    has ? sql : `SELECT *, NULL::VARCHAR AS channel FROM (${sql})`;
  const all = [
    ...(await sourceRows(withChannel(batchSql('a', 12), false), current)),
    ...(await sourceRows(withChannel(batchSql('b', 7), false), current)),
    ...(await sourceRows(batchSql('c', 5, true), current)),
  ];
  const isReplaced = (r: Canon) => {
    const row = r as Record<string, Canon>;
    return row.country === 'DE' && String(row.event_time).startsWith('2026-11-19');
  };
  expect(all.filter(isReplaced).length).toBeGreaterThan(1);
  expected.current = sortById([
    ...all.filter((r) => !isReplaced(r)),
    ...(await sourceRows(replacement, current)),
  ]);
  expected.third = sortById(all);
});

afterAll(async () => {
  restoreFetch?.();
  conn?.closeSync();
  instance?.closeSync();
  if (warehouse) await rm(warehouse, { recursive: true, force: true });
});

describe('pyiceberg reads shoplake tables', () => {
  let py: PyRead;
  beforeAll(async () => {
    py = await pyiceberg(
      table.metadataLocation,
      [snap.first ?? 0, snap.third ?? 0],
      '2026-11-21T00:00:00+00:00',
      COLUMN_FILTERS.map(([f]) => f),
    );
  }, 120_000);

  it('with the identical schema: names, field ids (nested too), types, required flags', () => {
    expect(py.schema.fields).toEqual(table.schema().fields);
    expect(py.schema['schema-id']).toBe(1);
    expect(py.spec).toEqual([
      { 'source-id': 2, 'field-id': 1000, name: 'event_time_day', transform: 'day' },
      { 'source-id': 3, 'field-id': 1001, name: 'country', transform: 'identity' },
    ]);
    expect(py.snapshots).toEqual([
      { id: snap.first, operation: 'append' },
      { id: snap.second, operation: 'append' },
      { id: snap.third, operation: 'append' },
      { id: snap.overwrite, operation: 'overwrite' },
    ]);
  });

  it('with identical rows in the current snapshot (after add column and a partition overwrite)', () => {
    expect(py.reads.current?.rows).toHaveLength(expected.current?.length ?? -1);
    expect(sortById(py.reads.current?.rows ?? [])).toEqual(asPyicebergReads(expected.current));
  });

  it('with identical rows in past snapshots (time travel), each with its own schema', () => {
    expect(sortById(py.reads[String(snap.first)]?.rows ?? [])).toEqual(asPyicebergReads(expected.first));
    expect(sortById(py.reads[String(snap.third)]?.rows ?? [])).toEqual(asPyicebergReads(expected.third));
  });

  it('filters on every column type with our lower/upper bounds without losing rows', () => {
    for (const [expr, keep] of COLUMN_FILTERS) {
      const want = (expected.current ?? []).filter((r) => keep(r as Record<string, Canon>));
      expect(want.length, expr).toBeGreaterThan(0);
      expect(want.length, expr).toBeLessThan(expected.current?.length ?? 0);
      expect(sortById(py.filters[expr]?.rows ?? []), expr).toEqual(asPyicebergReads(want));
    }
  });

  it('prunes files with our partition values and column bounds, without losing rows', () => {
    const want = (expected.current ?? []).filter(
      (r) => String((r as Record<string, Canon>).event_time) >= '2026-11-21',
    );
    expect(want.length).toBeGreaterThan(0);
    expect(sortById(py.filtered?.rows ?? [])).toEqual(asPyicebergReads(want));
    expect(py.filtered?.files).toBeLessThan(py.reads.current?.files ?? 0);
  });
});

describe('icebird reads shoplake tables', () => {
  it('with identical rows in the current snapshot (found through version-hint.text)', async () => {
    const rows = (await icebergRead({ tableUrl: `file://${table.tableDir}` })) as Record<string, unknown>[];
    expect(canonRows(rows, table.schema())).toEqual(expected.current);
  });

  it('with identical rows in a past snapshot', async () => {
    const metadata = { ...table.metadata, 'current-snapshot-id': snap.first ?? 0 };
    const rows = (await icebergRead({
      tableUrl: `file://${table.tableDir}`,
      metadata: metadata as unknown as Parameters<typeof icebergRead>[0]['metadata'],
    })) as Record<string, unknown>[];
    expect(canonRows(rows, schemaV0)).toEqual(expected.first);
  });
});

describe('DuckDB reads its own writes the same way', () => {
  it('current snapshot through duckdbScanSql equals the source rows', async () => {
    expect(await sourceRows(await duckdbScanSql(table), table.schema())).toEqual(expected.current);
  });
});

describe('after compaction and snapshot expiry', () => {
  it('pyiceberg and icebird still read identical rows, from fewer files', async () => {
    const filesBefore = (await table.planFiles()).length;
    const compacted = await table.compact(conn, { targetFileBytes: 64 * 1024 * 1024 });
    expect(compacted.operation).toBe('replace');
    const expired = await table.expireSnapshots({ retainLast: 1 });
    expect(expired.deletedPaths.length).toBeGreaterThan(0);
    expect((await table.planFiles()).length).toBeLessThan(filesBefore);

    const py = await pyiceberg(table.metadataLocation, []);
    expect(py.snapshots).toEqual([{ id: compacted.snapshotId, operation: 'replace' }]);
    expect(sortById(py.reads.current?.rows ?? [])).toEqual(asPyicebergReads(expected.current));
    const rows = (await icebergRead({ tableUrl: `file://${table.tableDir}` })) as Record<string, unknown>[];
    expect(canonRows(rows, table.schema())).toEqual(expected.current);
  }, 120_000);
});

describe('after the warehouse is moved and relocated', () => {
  it('pyiceberg and icebird read the moved copy, which no longer names the old location', async () => {
    const movedWarehouse = `${warehouse}-moved`;
    const movedDir = path.join(movedWarehouse, 'silver.db', 'interop_events');
    await cp(table.tableDir, movedDir, { recursive: true });
    const aside = `${table.tableDir}.aside`;
    await rename(table.tableDir, aside); // nothing may still read the old place
    try {
      const relocated = await relocateTable(movedDir);
      expect(relocated.from).toBe(table.tableDir);
      expect(relocated.filesRewritten).toBeGreaterThan(2);
      const version = (await readFile(path.join(movedDir, 'metadata', 'version-hint.text'), 'utf8')).trim();
      const metadataFile = path.join(movedDir, 'metadata', `v${version}.metadata.json`);
      expect(await readFile(metadataFile, 'utf8')).not.toContain(`${table.tableDir}/`);
      const py = await pyiceberg(metadataFile, []);
      expect(sortById(py.reads.current?.rows ?? [])).toEqual(asPyicebergReads(expected.current));
      const rows = (await icebergRead({ tableUrl: `file://${movedDir}` })) as Record<string, unknown>[];
      expect(canonRows(rows, table.schema())).toEqual(expected.current);
    } finally {
      await rename(aside, table.tableDir);
      await rm(movedWarehouse, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('partition transforms agree with pyiceberg', () => {
  it('month(date), hour(timestamptz) and identity(int) partitions prune without losing rows', async () => {
    const catalog = new LocalIcebergCatalog(warehouse);
    const t = await catalog.createTable('gold.interop_transforms', {
      columns: [
        { id: 1, name: 'event_id', type: 'string', required: true },
        { id: 2, name: 'd', type: 'date', required: true },
        { id: 3, name: 'ts', type: 'timestamptz', required: true },
        { id: 4, name: 'n', type: 'int', required: false },
      ],
      partitionBy: [
        { sourceColumn: 'd', transform: 'month' },
        { sourceColumn: 'ts', transform: 'hour' },
        { sourceColumn: 'n', transform: 'identity' },
      ],
    });
    const sql = `SELECT 'x' || lpad(i::VARCHAR, 3, '0') AS event_id, DATE '1969-11-15' + (i * 37)::INT AS d,
        TIMESTAMPTZ '2026-05-01 22:30:00+00' + to_minutes(i * 41) AS ts, (i % 3)::INT AS n FROM range(40) t(i)`;
    await t.appendQuery(conn, sql);
    const schema = t.schema();
    const all = await sourceRows(sql, schema);
    const filters: [string, (r: Record<string, Canon>) => boolean][] = [
      ["d >= '1972-03-01'", (r) => String(r.d) >= '1972-03-01'],
      ["d < '1970-02-01'", (r) => String(r.d) < '1970-02-01'],
      ["ts >= '2026-05-02T03:00:00+00:00'", (r) => String(r.ts) >= '2026-05-02T03:00:00.000Z'],
      ['n = 2', (r) => r.n === 2],
    ];
    const py = await pyiceberg(
      t.metadataLocation,
      [],
      undefined,
      filters.map(([f]) => f),
    );
    expect(py.spec.map((p) => p.transform)).toEqual(['month', 'hour', 'identity']);
    expect(sortById(py.reads.current?.rows ?? [])).toEqual(all);
    for (const [expr, keep] of filters) {
      const want = all.filter((r) => keep(r as Record<string, Canon>));
      expect(want.length, expr).toBeGreaterThan(0);
      expect(sortById(py.filters[expr]?.rows ?? []), expr).toEqual(want);
      expect(py.filters[expr]?.files ?? 0, expr).toBeLessThan(py.reads.current?.files ?? 0);
    }
  }, 120_000);
});

describe('unpartitioned tables', () => {
  it('pyiceberg and icebird read a whole-table overwrite (empty partition tuple)', async () => {
    const t = await new LocalIcebergCatalog(warehouse).createTable('gold.interop_kpis', {
      columns: [
        { id: 1, name: 'month', type: 'string', required: true },
        { id: 2, name: 'revenue', type: 'double', required: false },
        { id: 3, name: 'orders', type: 'long', required: false },
      ],
    });
    await t.appendQuery(
      conn,
      `SELECT '2026-0' || i AS month, i * 10.0 AS revenue, i AS orders FROM range(1, 4) t(i)`,
    );
    const sql = `SELECT '2026-0' || i AS month, i * 11.5 AS revenue, i * 2 AS orders FROM range(1, 5) t(i)`;
    await t.overwriteQuery(conn, sql, { whole: true });
    const schema = t.schema();
    const toCanon = (rows: Record<string, unknown>[]): Canon[] =>
      rows
        .map((r) => Object.fromEntries(schema.fields.map((f) => [f.name, canon(r[f.name], f.type)])))
        .sort((a, b) => String(a.month).localeCompare(String(b.month)));
    const expectedRows = toCanon(await (await conn.runAndReadAll(sql)).getRowObjectsJson());
    expect(expectedRows).toHaveLength(4);
    const py = await pyiceberg(t.metadataLocation, []);
    expect(py.spec).toEqual([]);
    const byMonth = (a: Canon, b: Canon) =>
      String((a as Record<string, Canon>).month).localeCompare(String((b as Record<string, Canon>).month));
    expect([...(py.reads.current?.rows ?? [])].sort(byMonth)).toEqual(expectedRows);
    const rows = (await icebergRead({ tableUrl: `file://${t.tableDir}` })) as Record<string, unknown>[];
    expect(toCanon(rows)).toEqual(expectedRows);
  }, 120_000);
});
