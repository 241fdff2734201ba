// Unit tests of local Iceberg table operations on a temporary warehouse: writes through DuckDB,
// time travel, copy-on-write overwrite, schema evolution, expiry, compaction, errors.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CommitConflictError,
  duckdbScanSql,
  IcebergMetadataError,
  type IcebergTable,
  IcebergValidationError,
  LocalIcebergCatalog,
  NoSuchTableError,
  TableAlreadyExistsError,
  type TableSpec,
  toLocalPath,
} from '../../local/iceberg/index.ts';
import { parseTableMetadata } from '../../local/iceberg/metadata.ts';
import { readManifestList } from '../../local/iceberg/table.ts';
import { decodeBound } from '../../local/iceberg/values.ts';

let instance: DuckDBInstance;
let conn: DuckDBConnection;
let warehouse: string;
let catalog: LocalIcebergCatalog;

const EVENTS: TableSpec = {
  columns: [
    { id: 1, name: 'event_id', type: 'string', required: true },
    { id: 2, name: 'event_time', type: 'timestamptz', required: true },
    { id: 3, name: 'price', type: 'double', required: false },
    {
      id: 4,
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
    { id: 5, name: 'attributes', type: { type: 'map', key: 'string', value: 'string' }, required: false },
  ],
  partitionBy: [{ sourceColumn: 'event_time', transform: 'day' }],
  sortBy: [{ column: 'event_time', direction: 'asc' }],
};

/** `n` events from `start` one hour apart, ids `<prefix><i>`. */
function eventsSql(prefix: string, n: number, start = '2026-11-20 22:00:00+00'): string {
  return `SELECT '${prefix}' || i AS event_id, TIMESTAMPTZ '${start}' + to_hours(i) AS event_time,
    i * 1.5 AS price, [{'product_id': 'p' || i, 'quantity': i::INT}] AS items,
    MAP {'src': '${prefix}'} AS attributes FROM range(${n}) t(i)`;
}

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJson();
}

async function ids(
  table: IcebergTable,
  opts: { snapshotId?: number; asOfMs?: number } = {},
): Promise<string[]> {
  const r = await rows(`SELECT event_id FROM (${await duckdbScanSql(table, opts)}) ORDER BY event_id`);
  return r.map((x) => String(x.event_id));
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  }
  return out.sort();
}

let seq = 0;
const nextIdent = () => `silver.t${++seq}`;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  conn = await instance.connect();
  warehouse = await mkdtemp(path.join(tmpdir(), 'iceberg-unit-'));
});
afterAll(async () => {
  conn.closeSync();
  instance.closeSync();
  await rm(warehouse, { recursive: true, force: true });
});
beforeEach(() => {
  catalog = new LocalIcebergCatalog(warehouse);
});

describe('catalog', () => {
  it('creates, lists, loads and drops tables; names are checked', async () => {
    const ident = nextIdent();
    await catalog.createTable(ident, EVENTS);
    expect(await catalog.tableExists(ident)).toBe(true);
    expect(await catalog.listTables('silver')).toContain(ident);
    await expect(catalog.createTable(ident, EVENTS)).rejects.toBeInstanceOf(TableAlreadyExistsError);
    const loaded = await catalog.loadTable(ident);
    expect(loaded.version).toBe(1);
    expect(loaded.currentSnapshot()).toBeUndefined();
    expect(await ids(loaded)).toEqual([]);
    await catalog.dropTable(ident, { purge: true });
    expect(await catalog.tableExists(ident)).toBe(false);
    await expect(catalog.loadTable(ident)).rejects.toBeInstanceOf(NoSuchTableError);
    await expect(catalog.loadTable('silver.nope')).rejects.toThrow('no such Iceberg table: silver.nope');
    expect(() => catalog.tableDir('../etc.passwd')).toThrow(IcebergValidationError);
    expect(() => catalog.tableDir('silver.a;drop')).toThrow(IcebergValidationError);
  });

  it('finds commits past a stale version hint, and a drop without purge keeps the files aside', async () => {
    const ident = nextIdent();
    const table = await catalog.createTable(ident, EVENTS);
    await table.appendQuery(conn, eventsSql('a', 1));
    await table.appendQuery(conn, eventsSql('b', 1));
    await writeFile(path.join(table.tableDir, 'metadata', 'version-hint.text'), '1');
    const loaded = await catalog.loadTable(ident);
    expect(loaded.version).toBe(3);
    expect(await ids(loaded)).toEqual(['a0', 'b0']);
    await rm(path.join(table.tableDir, 'metadata', 'version-hint.text'));
    expect((await catalog.loadTable(ident)).version).toBe(3);

    await catalog.dropTable(ident);
    expect(await catalog.tableExists(ident)).toBe(false);
    const aside = (await readdir(path.dirname(table.tableDir))).filter((n) =>
      n.startsWith(`.dropped-${path.basename(table.tableDir)}-`),
    );
    expect(aside).toHaveLength(1);
    expect(await catalog.listTables('silver')).not.toContain(ident);
    await expect(catalog.dropTable(ident)).rejects.toBeInstanceOf(NoSuchTableError);
  });

  it('of several concurrent creators exactly one wins', async () => {
    const ident = nextIdent();
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => new LocalIcebergCatalog(warehouse).createTable(ident, EVENTS)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(TableAlreadyExistsError);
  });
});

describe('writes', () => {
  it('appends a query as partitioned Parquet files with field ids, metrics and a v2 snapshot', async () => {
    const table = await catalog.createTable(nextIdent(), EVENTS);
    const result = await table.appendQuery(conn, eventsSql('a', 5));
    expect(result).toMatchObject({
      operation: 'append',
      addedFiles: 2,
      addedRecords: 5,
      version: 2,
      attempts: 1,
    });

    // Metadata JSON on disk.
    const text = await readFile(path.join(table.tableDir, 'metadata', 'v2.metadata.json'), 'utf8');
    const m = parseTableMetadata(text, 'v2');
    expect(m['current-snapshot-id']).toBe(result.snapshotId);
    expect(m['last-sequence-number']).toBe(1);
    expect(m.refs).toEqual({ main: { 'snapshot-id': result.snapshotId, type: 'branch' } });
    expect(m['snapshot-log']).toEqual([
      { 'snapshot-id': result.snapshotId, 'timestamp-ms': m['last-updated-ms'] },
    ]);
    expect(m['metadata-log'][0]?.['metadata-file']).toMatch(/^file:\/\/.*\/metadata\/v1\.metadata\.json$/);
    expect(m.snapshots[0]?.summary).toMatchObject({
      operation: 'append',
      'added-data-files': '2',
      'added-records': '5',
      'total-records': '5',
      'total-data-files': '2',
      'changed-partition-count': '2',
    });
    expect(await readFile(path.join(table.tableDir, 'metadata', 'version-hint.text'), 'utf8')).toBe('2');

    // Data files: one per day, metrics from DuckDB's RETURN_STATS.
    const files = await table.planFiles();
    expect(files.map((f) => f.partition.event_time_day).sort()).toEqual([20777, 20778]);
    const nov20 = files.find((f) => f.partition.event_time_day === 20777);
    expect(nov20?.filePath).toMatch(/^file:\/\/.*\/data\/event_time_day=2026-11-20\/[0-9a-f-]+\.parquet$/);
    expect(nov20?.recordCount).toBe(2);
    expect(nov20?.valueCounts?.get(1)).toBe(2);
    expect(nov20?.nullValueCounts?.get(3)).toBe(0);
    expect(decodeBound('string', nov20?.lowerBounds?.get(1) ?? Buffer.alloc(0))).toBe('a0');
    expect(decodeBound('string', nov20?.upperBounds?.get(1) ?? Buffer.alloc(0))).toBe('a1');
    expect(decodeBound('timestamptz', nov20?.upperBounds?.get(2) ?? Buffer.alloc(8))).toBe(
      BigInt(Date.UTC(2026, 10, 20, 23)) * 1000n,
    );
    expect(decodeBound('double', nov20?.upperBounds?.get(3) ?? Buffer.alloc(8))).toBe(1.5);

    // Field ids really are in the Parquet schema, nested ones included.
    const schema = await rows(
      `SELECT name, field_id FROM parquet_schema('${toLocalPath(nov20?.filePath ?? '')}') WHERE field_id IS NOT NULL ORDER BY field_id`,
    );
    expect(schema.map((r) => [r.name, Number(r.field_id)])).toEqual([
      ['event_id', 1],
      ['event_time', 2],
      ['price', 3],
      ['items', 4],
      ['attributes', 5],
      ['element', 6],
      ['product_id', 7],
      ['quantity', 8],
      ['key', 9],
      ['value', 10],
    ]);
    const kv = await rows(
      `SELECT decode(value) AS v FROM parquet_kv_metadata('${toLocalPath(nov20?.filePath ?? '')}') WHERE decode(key) = 'iceberg.schema'`,
    );
    expect(JSON.parse(String(kv[0]?.v)).fields.map((f: { id: number }) => f.id)).toEqual([1, 2, 3, 4, 5]);

    // Reading back through DuckDB gives the rows with the table's types.
    const back = await rows(
      `SELECT event_id, CAST(event_time AS VARCHAR) AS t, price, items, attributes FROM (${await duckdbScanSql(table)}) ORDER BY event_id`,
    );
    expect(back[0]).toEqual({
      event_id: 'a0',
      t: '2026-11-20 22:00:00+00',
      price: 0,
      items: [{ product_id: 'p0', quantity: 0 }],
      attributes: [{ key: 'src', value: 'a' }],
    });
    const types = await rows(`DESCRIBE ${await duckdbScanSql(table)}`);
    expect(types.map((r) => r.column_type)).toEqual([
      'VARCHAR',
      'TIMESTAMP WITH TIME ZONE',
      'DOUBLE',
      'STRUCT(product_id VARCHAR, quantity INTEGER)[]',
      'MAP(VARCHAR, VARCHAR)',
    ]);
  });

  it('stores the same instants whatever the session TimeZone; naive timestamps are UTC', async () => {
    const table = await catalog.createTable(nextIdent(), EVENTS);
    const c = await instance.connect();
    await c.run("SET TimeZone = 'America/New_York'");
    await table.appendQuery(c, `SELECT 'naive' AS event_id, TIMESTAMP '2026-11-21 23:30:00' AS event_time`);
    await table.appendQuery(
      c,
      `SELECT 'aware' AS event_id, TIMESTAMPTZ '2026-11-21 23:30:00+00' AS event_time`,
    );
    c.closeSync();
    const files = await table.planFiles();
    expect(files.map((f) => f.partition.event_time_day)).toEqual([20778, 20778]);
    const micros = BigInt(Date.UTC(2026, 10, 21, 23, 30)) * 1000n;
    for (const f of files) {
      expect(decodeBound('timestamptz', f.lowerBounds?.get(2) ?? Buffer.alloc(8))).toBe(micros);
      expect(decodeBound('timestamptz', f.upperBounds?.get(2) ?? Buffer.alloc(8))).toBe(micros);
    }
    const back = await rows(
      `SELECT event_id, epoch_us(event_time) AS us FROM (${await duckdbScanSql(table)}) ORDER BY 1`,
    );
    expect(back).toEqual([
      { event_id: 'aware', us: String(micros) },
      { event_id: 'naive', us: String(micros) },
    ]);
  });

  it('time travel: planFiles and scans by snapshot id and by time', async () => {
    const table = await catalog.createTable(nextIdent(), EVENTS);
    const first = await table.appendQuery(conn, eventsSql('a', 3));
    const afterFirst = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    await table.appendQuery(conn, eventsSql('b', 2));
    expect(await ids(table)).toEqual(['a0', 'a1', 'a2', 'b0', 'b1']);
    expect(await ids(table, { snapshotId: first.snapshotId })).toEqual(['a0', 'a1', 'a2']);
    expect(await ids(table, { asOfMs: afterFirst })).toEqual(['a0', 'a1', 'a2']);
    expect((await table.planFiles({ snapshotId: BigInt(first.snapshotId) })).length).toBe(2);
    expect(table.recordCount()).toBe(5);
    expect(table.recordCount({ snapshotId: first.snapshotId })).toBe(3);
    expect(() => table.snapshotFor({ snapshotId: 12345 })).toThrow(/has no snapshot 12345/);
    expect(() => table.snapshotFor({ asOfMs: 0 })).toThrow(/had no snapshot at/);
  });

  it('overwrites only the affected partitions (copy-on-write), or the whole table', async () => {
    const table = await catalog.createTable(nextIdent(), EVENTS);
    await table.appendQuery(conn, eventsSql('a', 5)); // a0,a1 on 11-20; a2..a4 on 11-21
    const before = await table.planFiles();
    const r = await table.overwriteQuery(conn, eventsSql('n', 1, '2026-11-21 05:00:00+00'), {
      partitions: 'affected',
    });
    expect(r).toMatchObject({
      operation: 'overwrite',
      addedFiles: 1,
      deletedFiles: 1,
      addedRecords: 1,
      deletedRecords: 3,
    });
    expect(await ids(table)).toEqual(['a0', 'a1', 'n0']);
    const after = await table.planFiles();
    const untouched = before.find((f) => f.partition.event_time_day === 20777);
    expect(after.map((f) => f.filePath)).toContain(untouched?.filePath);
    expect(table.currentSnapshot()?.summary['total-records']).toBe('3');

    // An explicitly named partition is emptied even without new rows for it.
    const r2 = await table.overwriteQuery(conn, eventsSql('m', 1, '2026-11-25 00:00:00+00'), {
      partitions: 'affected',
      alsoReplace: [{ event_time_day: 20777 }],
    });
    expect(r2.deletedRecords).toBe(2);
    expect(await ids(table)).toEqual(['m0', 'n0']);

    const r3 = await table.overwriteQuery(conn, eventsSql('w', 2), { whole: true });
    expect(r3).toMatchObject({ operation: 'overwrite', deletedRecords: 2, addedRecords: 2 });
    expect(await ids(table)).toEqual(['w0', 'w1']);
    const r4 = await table.overwriteQuery(conn, `${eventsSql('x', 1)} WHERE false`, { whole: true });
    expect(r4.operation).toBe('delete');
    expect(await ids(table)).toEqual([]);
    expect(table.recordCount()).toBe(0);
  });

  it('adds a column (new schema id, new field id); old files read it as NULL', async () => {
    const table = await catalog.createTable(nextIdent(), EVENTS);
    const first = await table.appendQuery(conn, eventsSql('a', 2));
    const r = await table.addColumn('channel', 'string', { doc: 'marketing channel' });
    expect(r.operation).toBe('schema');
    expect(table.schema()['schema-id']).toBe(1);
    expect(table.metadata['last-column-id']).toBe(11);
    expect(table.schema().fields.at(-1)).toEqual({
      id: 11,
      name: 'channel',
      required: false,
      type: 'string',
      doc: 'marketing channel',
    });
    await expect(table.addColumn('CHANNEL', 'string')).rejects.toThrow(/already has a column/);
    await table.appendQuery(conn, `SELECT *, 'email' AS channel FROM (${eventsSql('b', 1)})`);
    const back = await rows(
      `SELECT event_id, channel FROM (${await duckdbScanSql(table)}) ORDER BY event_id`,
    );
    expect(back).toEqual([
      { event_id: 'a0', channel: null },
      { event_id: 'a1', channel: null },
      { event_id: 'b0', channel: 'email' },
    ]);
    // The past snapshot is read with its own schema (no channel column).
    const past = await rows(`DESCRIBE ${await duckdbScanSql(table, { snapshotId: first.snapshotId })}`);
    expect(past.map((x) => x.column_name)).not.toContain('channel');
  });

  it('expires snapshots and deletes only files no retained snapshot references', async () => {
    const table = await catalog.createTable(nextIdent(), EVENTS);
    const first = await table.appendQuery(conn, eventsSql('a', 5));
    const oldFiles = (await table.planFiles()).map((f) => toLocalPath(f.filePath));
    await table.overwriteQuery(conn, eventsSql('b', 5), { whole: true });
    await table.appendQuery(conn, eventsSql('c', 1, '2026-12-01 00:00:00+00'));
    const liveFiles = (await table.planFiles()).map((f) => toLocalPath(f.filePath));
    const r = await table.expireSnapshots({ retainLast: 2 });
    expect(table.snapshots()).toHaveLength(2);
    expect(table.metadata['snapshot-log']).toHaveLength(2);
    expect(r.deletedPaths.map(toLocalPath)).toEqual(expect.arrayContaining(oldFiles));
    const onDisk = await listFiles(table.tableDir);
    for (const f of oldFiles) expect(onDisk).not.toContain(f);
    for (const f of liveFiles) expect(onDisk).toContain(f);
    expect(onDisk.some((f) => f.includes(`snap-${first.snapshotId}-`))).toBe(false);
    expect(await ids(table)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'c0']);
    expect(() => table.snapshotFor({ snapshotId: first.snapshotId })).toThrow(/has no snapshot/);
    // Nothing left to expire: a no-op that changes no version.
    const version = table.version;
    expect((await table.expireSnapshots({ retainLast: 2 })).operation).toBe('noop');
    expect(table.version).toBe(version);
    // olderThan keeps the newest snapshot even if it is old.
    await table.expireSnapshots({ olderThanMs: Date.now() + 1000 });
    expect(table.snapshots().map((s) => s['snapshot-id'])).toEqual([
      table.currentSnapshot()?.['snapshot-id'],
    ]);
    expect(await ids(table)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'c0']);
  });

  it('removes orphan files older than the limit, never referenced or recent ones', async () => {
    const table = await catalog.createTable(nextIdent(), EVENTS);
    await table.appendQuery(conn, eventsSql('a', 3));
    const live = await listFiles(table.tableDir);
    const oldOrphan = path.join(
      table.tableDir,
      'data',
      'event_time_day=2026-11-20',
      'crashed-writer.parquet',
    );
    const oldStaging = path.join(table.tableDir, 'data', '.staging-x', 'data_1.parquet');
    const newOrphan = path.join(table.tableDir, 'metadata', 'in-flight-m0.avro');
    await mkdir(path.dirname(oldStaging), { recursive: true });
    for (const f of [oldOrphan, oldStaging, newOrphan]) await writeFile(f, 'x');
    const weekAgo = new Date(Date.now() - 7 * 86_400_000);
    await utimes(oldOrphan, weekAgo, weekAgo);
    await utimes(oldStaging, weekAgo, weekAgo);
    // Live files are old too: age alone never deletes a referenced file.
    for (const f of live) await utimes(f, weekAgo, weekAgo);
    const deleted = await table.removeOrphanFiles();
    expect(deleted).toEqual([oldOrphan, oldStaging].sort());
    const after = await listFiles(table.tableDir);
    for (const f of live) expect(after).toContain(f);
    expect(after).toContain(newOrphan);
    expect(await ids(table)).toEqual(['a0', 'a1', 'a2']);
  });

  it('compacts the small files of each partition into one (operation replace, same rows)', async () => {
    const table = await catalog.createTable(nextIdent(), EVENTS);
    for (const p of ['a', 'b', 'c']) await table.appendQuery(conn, eventsSql(p, 4));
    expect(await table.planFiles()).toHaveLength(6);
    const before = await ids(table);
    const r = await table.compact(conn, { targetFileBytes: 1 << 20 });
    expect(r).toMatchObject({
      operation: 'replace',
      deletedFiles: 6,
      addedFiles: 2,
      addedRecords: 12,
      deletedRecords: 12,
    });
    expect(await table.planFiles()).toHaveLength(2);
    expect(await ids(table)).toEqual(before);
    expect(table.recordCount()).toBe(12);
    expect((await table.compact(conn)).operation).toBe('noop');
  });

  it('merges manifests once a snapshot would carry min-count-to-merge of them', async () => {
    const table = await catalog.createTable(nextIdent(), {
      ...EVENTS,
      properties: { 'commit.manifest.min-count-to-merge': '4' },
    });
    const counts: number[] = [];
    for (let i = 0; i < 7; i++) {
      await table.appendQuery(conn, eventsSql(`m${i}_`, 2));
      const s = table.currentSnapshot();
      counts.push((await readManifestList(s?.['manifest-list'] ?? '')).length);
    }
    expect(counts).toEqual([1, 2, 3, 2, 3, 2, 3]);
    expect((await ids(table)).length).toBe(14);
    expect(await table.planFiles()).toHaveLength(7);
    // Time travel to a snapshot before the merge still sees exactly its rows.
    expect((await ids(table, { snapshotId: table.snapshots()[2]?.['snapshot-id'] ?? 0 })).length).toBe(6);
  });

  it('rejects bad rows and columns without committing or leaving files', async () => {
    const table = await catalog.createTable(nextIdent(), EVENTS);
    await table.appendQuery(conn, eventsSql('a', 2));
    const filesBefore = await listFiles(table.tableDir);
    await expect(
      table.appendQuery(
        conn,
        `SELECT NULL::VARCHAR AS event_id, TIMESTAMPTZ '2026-11-21 00:00:00+00' AS event_time`,
      ),
    ).rejects.toThrow(/required column event_id has 1 null value/);
    await expect(
      table.appendQuery(conn, `SELECT 'x' AS event_id, now() AS event_time, 1 AS bogus`),
    ).rejects.toThrow(/not in the table schema: bogus/);
    await expect(table.appendQuery(conn, `SELECT 'x' AS event_id`)).rejects.toThrow(
      /required column event_time/,
    );
    expect(await listFiles(table.tableDir)).toEqual(filesBefore);
    expect(table.version).toBe(2);
    // A trailing semicolon or line comment in the caller's SQL is fine.
    expect((await table.appendQuery(conn, `${eventsSql('s', 1)};\n`)).addedRecords).toBe(1);
    expect((await table.appendQuery(conn, `${eventsSql('t', 1)} -- trailing comment`)).addedRecords).toBe(1);
    expect(table.version).toBe(4);
    // An empty result appends nothing.
    expect((await table.appendQuery(conn, `${eventsSql('z', 1)} WHERE false`)).operation).toBe('noop');
    expect(table.version).toBe(4);
  });
});

describe('broken metadata', () => {
  it('a corrupted latest metadata file is an IcebergMetadataError naming it, and nothing is deleted', async () => {
    const ident = nextIdent();
    const table = await catalog.createTable(ident, EVENTS);
    await table.appendQuery(conn, eventsSql('a', 2));
    const file = path.join(table.tableDir, 'metadata', 'v2.metadata.json');
    await writeFile(file, '{"format-version": 2, "table-uu');
    const before = await listFiles(table.tableDir);
    const err = await catalog.loadTable(ident).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IcebergMetadataError);
    expect((err as IcebergMetadataError).file).toBe(file);
    expect(String(err)).toContain('v2.metadata.json: not valid JSON');
    // A writer holding the old version cannot commit over it either.
    await expect(table.appendQuery(conn, eventsSql('b', 1))).rejects.toBeInstanceOf(IcebergMetadataError);
    expect(await listFiles(table.tableDir)).toEqual(before);
  });

  it('a missing metadata file named by the version hint is an IcebergMetadataError', async () => {
    const ident = nextIdent();
    const table = await catalog.createTable(ident, EVENTS);
    await table.appendQuery(conn, eventsSql('a', 2));
    await unlink(path.join(table.tableDir, 'metadata', 'v2.metadata.json'));
    await expect(catalog.loadTable(ident)).rejects.toThrow(/v2\.metadata\.json: missing/);
  });

  it('a missing manifest list is reported with its path', async () => {
    const ident = nextIdent();
    const table = await catalog.createTable(ident, EVENTS);
    const r = await table.appendQuery(conn, eventsSql('a', 2));
    const list = table.currentSnapshot()?.['manifest-list'] ?? '';
    await unlink(toLocalPath(list));
    const fresh = await new LocalIcebergCatalog(warehouse).loadTable(ident);
    await expect(fresh.planFiles({ snapshotId: r.snapshotId + 0 })).rejects.toThrow(IcebergMetadataError);
  });
});

describe('optimistic concurrency', () => {
  it('an overwrite whose partition changed concurrently fails cleanly with CommitConflictError', async () => {
    const ident = nextIdent();
    const t1 = await catalog.createTable(ident, EVENTS);
    await t1.appendQuery(conn, eventsSql('a', 5));
    const t2 = await new LocalIcebergCatalog(warehouse).loadTable(ident);
    const readSnapshot = t1.metadata['current-snapshot-id'];
    const files = await t1.writeQuery(conn, eventsSql('n', 1, '2026-11-21 05:00:00+00'));
    // Meanwhile another writer appends to the same day.
    await t2.appendQuery(conn, eventsSql('late', 1, '2026-11-21 07:00:00+00'));
    const before = await listFiles(t1.tableDir);
    await expect(t1.overwriteFiles(files, { partitions: 'affected' }, readSnapshot)).rejects.toBeInstanceOf(
      CommitConflictError,
    );
    // The conflicting commit wrote no metadata; the concurrent append is intact.
    const after = await listFiles(t1.tableDir);
    expect(after.filter((f) => f.endsWith('.metadata.json'))).toEqual(
      before.filter((f) => f.endsWith('.metadata.json')),
    );
    const fresh = await new LocalIcebergCatalog(warehouse).loadTable(ident);
    expect(await ids(fresh)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'late0']);
  });

  it('overwriteQuery from a table object that has not seen a concurrent append to the partition conflicts', async () => {
    const ident = nextIdent();
    const t1 = await catalog.createTable(ident, EVENTS);
    await t1.appendQuery(conn, eventsSql('a', 5));
    const t2 = await new LocalIcebergCatalog(warehouse).loadTable(ident);
    await t2.appendQuery(conn, eventsSql('late', 1, '2026-11-21 07:00:00+00'));
    const dataBefore = (await listFiles(t1.tableDir)).filter((f) => f.endsWith('.parquet'));
    const err = await t1
      .overwriteQuery(conn, eventsSql('n', 1, '2026-11-21 05:00:00+00'), { partitions: 'affected' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommitConflictError);
    expect(String(err)).toContain(
      `commit to ${ident} failed: a concurrent commit changed the data this overwrite replaces`,
    );
    // Its data files were removed; the table still has the concurrent append.
    expect((await listFiles(t1.tableDir)).filter((f) => f.endsWith('.parquet'))).toEqual(dataBefore);
    expect(await ids(await catalog.loadTable(ident))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'late0']);
    // After refreshing (re-reading the table) the same overwrite goes through.
    await t1.refresh();
    const r = await t1.overwriteQuery(conn, eventsSql('n', 1, '2026-11-21 05:00:00+00'), {
      partitions: 'affected',
    });
    expect(r.deletedRecords).toBe(4);
  });

  it('an overwrite of a partition nobody touched is re-applied after losing the race', async () => {
    const ident = nextIdent();
    const t1 = await catalog.createTable(ident, EVENTS);
    await t1.appendQuery(conn, eventsSql('a', 5));
    const t2 = await new LocalIcebergCatalog(warehouse).loadTable(ident);
    const readSnapshot = t1.metadata['current-snapshot-id'];
    const files = await t1.writeQuery(conn, eventsSql('n', 1, '2026-11-21 05:00:00+00'));
    await t2.appendQuery(conn, eventsSql('other', 1, '2026-11-25 00:00:00+00'));
    const r = await t1.overwriteFiles(files, { partitions: 'affected' }, readSnapshot);
    expect(r.attempts).toBe(2);
    expect(await ids(t1)).toEqual(['a0', 'a1', 'n0', 'other0']);
  });

  it('concurrent appends from separate table objects: one winner per version, no lost commit', async () => {
    const ident = nextIdent();
    await catalog.createTable(ident, EVENTS);
    const writers = 4;
    const perWriter = 4;
    const results = await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const c = await instance.connect();
        const t = await new LocalIcebergCatalog(warehouse).loadTable(ident);
        const out = [];
        for (let i = 0; i < perWriter; i++) out.push(await t.appendQuery(c, eventsSql(`w${w}_${i}_`, 2)));
        c.closeSync();
        return out;
      }),
    );
    const all = results.flat();
    expect(new Set(all.map((r) => r.version)).size).toBe(writers * perWriter);
    expect(new Set(all.map((r) => r.snapshotId)).size).toBe(writers * perWriter);
    const table = await catalog.loadTable(ident);
    expect(table.version).toBe(1 + writers * perWriter);
    expect(table.recordCount()).toBe(writers * perWriter * 2);
    expect((await ids(table)).length).toBe(writers * perWriter * 2);
    expect(table.snapshots()).toHaveLength(writers * perWriter);
    // Sequence numbers are dense and parents chain.
    const snaps = table.snapshots();
    snaps.forEach((s, i) => {
      expect(s['sequence-number']).toBe(i + 1);
      if (i > 0) expect(s['parent-snapshot-id']).toBe(snaps[i - 1]?.['snapshot-id']);
    });
    // Losers cleaned up: every manifest list on disk belongs to a snapshot.
    const lists = (await readdir(path.join(table.tableDir, 'metadata'))).filter((n) => n.startsWith('snap-'));
    expect(lists).toHaveLength(writers * perWriter);
  });

  it('two writers racing on the same version: the loser re-reads and re-applies its append', async () => {
    const ident = nextIdent();
    const t0 = await catalog.createTable(ident, EVENTS);
    await t0.appendQuery(conn, eventsSql('a', 1));
    const t1 = await new LocalIcebergCatalog(warehouse).loadTable(ident);
    const t2 = await new LocalIcebergCatalog(warehouse).loadTable(ident);
    const f1 = await t1.writeQuery(conn, eventsSql('x', 1));
    const f2 = await t2.writeQuery(conn, eventsSql('y', 1));
    const [r1, r2] = await Promise.all([t1.appendFiles(f1), t2.appendFiles(f2)]);
    expect([r1.attempts, r2.attempts].sort()).toEqual([1, 2]);
    expect([r1.version, r2.version].sort()).toEqual([3, 4]);
    expect(await ids(await catalog.loadTable(ident))).toEqual(['a0', 'x0', 'y0']);
  });

  it('concurrent appends from child processes: every commit lands exactly once', async () => {
    const ident = nextIdent();
    await catalog.createTable(ident, {
      ...EVENTS,
      partitionBy: [{ sourceColumn: 'event_time', transform: 'hour' }],
    });
    const worker = path.join(import.meta.dirname, 'iceberg-helpers', 'append-worker.ts');
    const children = 3;
    const perChild = 4;
    const run = promisify(execFile);
    const outputs = await Promise.all(
      Array.from({ length: children }, (_, c) =>
        run(process.execPath, ['--import', 'tsx', worker, warehouse, ident, String(perChild), `p${c}`], {
          timeout: 120_000,
          env: { ...process.env },
        }),
      ),
    );
    const commits = outputs.flatMap((o) =>
      o.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { version: number; snapshotId: number; attempts: number }),
    );
    expect(commits).toHaveLength(children * perChild);
    expect(new Set(commits.map((c) => c.version)).size).toBe(children * perChild);
    const table = await catalog.loadTable(ident);
    expect(table.version).toBe(1 + children * perChild);
    expect(table.recordCount()).toBe(children * perChild * 3);
    const got = await ids(table);
    expect(got).toHaveLength(children * perChild * 3);
    expect(new Set(got).size).toBe(got.length);
  }, 180_000);
});
