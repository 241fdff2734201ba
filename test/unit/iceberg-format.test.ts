// Unit tests of the Iceberg format pieces: schema ids, partition transforms, bound
// serialization, Avro manifests with field ids, metadata JSON.
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeAvroFile,
  ENTRY_STATUS,
  encodeAvroFile,
  entryFromAvro,
  entryToAvro,
  MANIFEST_LIST_SCHEMA,
  type ManifestFile,
  manifestEntrySchema,
  manifestFileFromAvro,
  manifestFileToAvro,
} from '../../local/iceberg/avro.ts';
import { newTableMetadata } from '../../local/iceberg/catalog.ts';
import { IcebergMetadataError, IcebergValidationError } from '../../local/iceberg/errors.ts';
import { parseTableMetadata, serializeTableMetadata } from '../../local/iceberg/metadata.ts';
import { allFieldIds, duckdbFieldIds, duckdbType, toIcebergFields } from '../../local/iceberg/schema.ts';
import {
  applyTimeTransform,
  humanPartitionValue,
  isoToEpochDay,
  transformSql,
} from '../../local/iceberg/transforms.ts';
import { boundFromStats, decodeBound, parseTimestampMicros } from '../../local/iceberg/values.ts';

let instance: DuckDBInstance;
beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
});
afterAll(() => instance.closeSync());

describe('schema', () => {
  it('keeps catalog ids for columns and numbers nested fields after the largest one, deterministically', () => {
    const columns = [
      { id: 1, name: 'id', type: 'string' as const, required: true },
      {
        id: 7,
        name: 'items',
        type: {
          type: 'list' as const,
          element: {
            type: 'struct' as const,
            fields: [
              { name: 'product_id', type: 'string' as const, required: true },
              { name: 'qty', type: 'int' as const, required: false },
            ],
          },
        },
        required: false,
      },
      {
        id: 3,
        name: 'attributes',
        type: { type: 'map' as const, key: 'string' as const, value: 'string' as const },
        required: false,
      },
    ];
    const a = toIcebergFields(columns, 8);
    const b = toIcebergFields(columns, 8);
    expect(a).toEqual(b);
    expect(a.fields.map((f) => f.id)).toEqual([1, 7, 3]);
    expect(a.fields[1]?.type).toEqual({
      type: 'list',
      'element-id': 8,
      'element-required': false,
      element: {
        type: 'struct',
        fields: [
          { id: 9, name: 'product_id', required: true, type: 'string' },
          { id: 10, name: 'qty', required: false, type: 'int' },
        ],
      },
    });
    expect(a.fields[2]?.type).toMatchObject({ type: 'map', 'key-id': 11, 'value-id': 12 });
    expect(a.lastColumnId).toBe(12);
    expect(new Set(allFieldIds(a.fields)).size).toBe(allFieldIds(a.fields).length);
    expect(duckdbFieldIds(a.fields)).toBe(
      '{"id": 1, "items": {__duckdb_field_id: 7, element: {__duckdb_field_id: 8, "product_id": 9, "qty": 10}}, "attributes": {__duckdb_field_id: 3, key: 11, value: 12}}',
    );
    expect(duckdbType(a.fields[1]?.type ?? 'string')).toBe('STRUCT("product_id" VARCHAR, "qty" INTEGER)[]');
  });

  it('rejects duplicate ids, bad names and unknown types', () => {
    expect(() =>
      toIcebergFields(
        [
          { id: 1, name: 'a', type: 'string', required: true },
          { id: 1, name: 'b', type: 'string', required: true },
        ],
        2,
      ),
    ).toThrow(IcebergValidationError);
    expect(() => toIcebergFields([{ id: 1, name: 'a-b', type: 'string', required: true }], 2)).toThrow(
      /invalid column name/,
    );
    expect(() =>
      toIcebergFields([{ id: 1, name: 'a', type: 'uuid' as 'string', required: true }], 2),
    ).toThrow(/unsupported Iceberg type/);
  });
});

describe('partition transforms', () => {
  const timestamps = [
    '1969-12-31 23:59:59.999999+00',
    '1970-01-01 00:00:00+00',
    '2024-02-29 23:30:00+00',
    '2026-11-21 00:00:00+00',
    '2026-11-21 23:59:59.999999+00',
    '2026-12-31 22:15:00-05',
  ];

  it('SQL and JS agree for year/month/day/hour of timestamptz, whatever the session time zone', async () => {
    const conn = await instance.connect();
    for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
      await conn.run(`SET TimeZone = '${tz}'`);
      for (const ts of timestamps) {
        const micros = parseTimestampMicros(ts);
        for (const t of ['year', 'month', 'day', 'hour'] as const) {
          const reader = await conn.runAndReadAll(
            `SELECT CAST(${transformSql(t, 'timestamptz', 'c')} AS VARCHAR) AS v FROM (SELECT TIMESTAMPTZ '${ts}' AS c)`,
          );
          const sqlValue = String((await reader.getRowObjectsJson())[0]?.v);
          const jsValue = applyTimeTransform(t, 'timestamptz', micros);
          const expected = t === 'day' ? humanPartitionValue('day', 'date', jsValue) : String(jsValue);
          expect({ tz, ts, t, v: sqlValue }).toEqual({ tz, ts, t, v: expected });
        }
      }
    }
    conn.closeSync();
  });

  it('computes spec values: day of 2026-11-21 is 20778, month 682, year 56, hour 498672', () => {
    const micros = parseTimestampMicros('2026-11-21 10:00:00+00');
    expect(applyTimeTransform('day', 'timestamptz', micros)).toBe(isoToEpochDay('2026-11-21'));
    expect(applyTimeTransform('day', 'timestamptz', micros)).toBe(20778);
    expect(applyTimeTransform('month', 'timestamptz', micros)).toBe((2026 - 1970) * 12 + 10);
    expect(applyTimeTransform('year', 'timestamptz', micros)).toBe(56);
    expect(applyTimeTransform('hour', 'timestamptz', micros)).toBe(20778 * 24 + 10);
    expect(applyTimeTransform('day', 'timestamptz', -1n)).toBe(-1);
    expect(applyTimeTransform('month', 'date', BigInt(isoToEpochDay('1969-12-15')))).toBe(-1);
    expect(humanPartitionValue('month', 'int', 682)).toBe('2026-11');
    expect(humanPartitionValue('hour', 'int', 20778 * 24 + 10)).toBe('2026-11-21-10');
    expect(humanPartitionValue('year', 'int', 56)).toBe('2026');
  });
});

describe('single-value serialization of bounds', () => {
  it('encodes each primitive as the spec says (little-endian ints, micros, UTF-8)', () => {
    expect(boundFromStats('int', '-2', 'lower')?.toString('hex')).toBe('feffffff');
    expect(boundFromStats('long', '1', 'lower')?.toString('hex')).toBe('0100000000000000');
    expect(boundFromStats('boolean', 'true', 'lower')?.toString('hex')).toBe('01');
    expect(boundFromStats('boolean', '0', 'upper')?.toString('hex')).toBe('00');
    expect(decodeBound('date', boundFromStats('date', '2026-11-21', 'lower') ?? Buffer.alloc(4))).toBe(20778);
    expect(decodeBound('double', boundFromStats('double', '1.5', 'lower') ?? Buffer.alloc(8))).toBe(1.5);
    expect(boundFromStats('double', 'nan', 'lower')).toBeUndefined();
    expect(boundFromStats('double', 'inf', 'upper')).toBeUndefined();
    const ts = boundFromStats('timestamptz', '2026-11-21 10:00:00.123456+00', 'lower') ?? Buffer.alloc(8);
    expect(decodeBound('timestamptz', ts)).toBe(BigInt(Date.UTC(2026, 10, 21, 10)) * 1000n + 123456n);
    // A non-UTC rendering (session time zone) gives the same instant.
    const ts2 = boundFromStats('timestamptz', '2026-11-21 05:00:00.123456-05', 'lower') ?? Buffer.alloc(8);
    expect(ts2.equals(ts)).toBe(true);
    expect(boundFromStats('string', 'héllo', 'lower')?.toString('utf8')).toBe('héllo');
    // decimal(9,2) 12.34 → unscaled 1234 → 0x04d2 big-endian; -1.00 → -100 → 0x9c
    expect(boundFromStats('decimal(9,2)', '12.34', 'lower')?.toString('hex')).toBe('04d2');
    expect(boundFromStats('decimal(9,2)', '-1.00', 'lower')?.toString('hex')).toBe('9c');
    expect(boundFromStats('decimal(9,2)', '1.28', 'lower')?.toString('hex')).toBe('0080');
  });

  it('truncates long strings to 16 characters: lower is a prefix, upper is the incremented prefix', () => {
    const long = 'abcdefghijklmnopqrstuvwxyz';
    expect(boundFromStats('string', long, 'lower')?.toString('utf8')).toBe('abcdefghijklmnop');
    expect(boundFromStats('string', long, 'upper')?.toString('utf8')).toBe('abcdefghijklmnoq');
    const upper = boundFromStats('string', long, 'upper')?.toString('utf8') ?? '';
    expect(upper > long).toBe(true);
  });

  it('parses DuckDB timestamp renderings with and without offsets', () => {
    expect(parseTimestampMicros('1970-01-01 00:00:01')).toBe(1_000_000n);
    expect(parseTimestampMicros('1970-01-01 05:30:00+05:30')).toBe(0n);
    expect(parseTimestampMicros('1969-12-31 23:59:59.5+00')).toBe(-500_000n);
    expect(() => parseTimestampMicros('yesterday')).toThrow(IcebergValidationError);
  });
});

describe('Avro manifests', () => {
  const partitionFields = [{ fieldId: 1000, name: 'event_time_day', resultType: 'date' }];
  const manifest: ManifestFile = {
    manifestPath: 'file:///tmp/m.avro',
    manifestLength: 100,
    partitionSpecId: 0,
    content: 0,
    sequenceNumber: 7,
    minSequenceNumber: 7,
    addedSnapshotId: 42,
    addedFilesCount: 1,
    existingFilesCount: 1,
    deletedFilesCount: 0,
    addedRowsCount: 10,
    existingRowsCount: 5,
    deletedRowsCount: 0,
    partitions: [
      { containsNull: false, containsNan: false, lowerBound: Buffer.from([1, 0, 0, 0]), upperBound: null },
    ],
  };

  it('round-trips manifest entries, inherits sequence numbers of ADDED entries, and keeps field ids in the header', async () => {
    const entries = [
      {
        status: ENTRY_STATUS.ADDED,
        snapshotId: 42,
        sequenceNumber: null,
        fileSequenceNumber: null,
        dataFile: {
          content: 0,
          filePath: 'file:///tmp/a.parquet',
          fileFormat: 'PARQUET' as const,
          partition: { event_time_day: 20778 },
          recordCount: 10,
          fileSizeInBytes: 1234,
          specId: 0,
          valueCounts: new Map([[1, 10]]),
          nullValueCounts: new Map([[1, 0]]),
          lowerBounds: new Map([[1, Buffer.from('a')]]),
          upperBounds: new Map([[1, Buffer.from('z')]]),
          sortOrderId: 0,
        },
      },
      {
        status: ENTRY_STATUS.EXISTING,
        snapshotId: 41,
        sequenceNumber: 3,
        fileSequenceNumber: 3,
        dataFile: {
          content: 0,
          filePath: 'file:///tmp/b.parquet',
          fileFormat: 'PARQUET' as const,
          partition: { event_time_day: null },
          recordCount: 5,
          fileSizeInBytes: 99,
          specId: 0,
        },
      },
    ];
    const schema = manifestEntrySchema(partitionFields);
    const bytes = await encodeAvroFile(
      schema,
      entries.map((e) => entryToAvro(e, partitionFields)),
      { 'format-version': '2', content: 'data', 'partition-spec-id': '0' },
    );
    const { records, metadata } = await decodeAvroFile(bytes, 'm.avro');
    expect(metadata['format-version']).toBe('2');
    expect(metadata.content).toBe('data');
    const header = JSON.parse(metadata['avro.schema'] ?? '{}') as {
      fields: { name: string; 'field-id': number; type: unknown }[];
    };
    expect(header.fields.map((f) => [f.name, f['field-id']])).toEqual([
      ['status', 0],
      ['snapshot_id', 1],
      ['sequence_number', 3],
      ['file_sequence_number', 4],
      ['data_file', 2],
    ]);
    const dataFileType = header.fields[4]?.type as { fields: { 'field-id': number }[] } | undefined;
    const dataFileIds = (dataFileType?.fields ?? []).map((f) => f['field-id']);
    expect(dataFileIds).toEqual([
      134, 100, 101, 102, 103, 104, 108, 109, 110, 137, 125, 128, 131, 132, 135, 140,
    ]);
    expect(JSON.stringify(header)).toContain(
      '"name":"event_time_day","type":["null",{"type":"int","logicalType":"date"}],"default":null,"field-id":1000',
    );

    const back = records.map((r) => entryFromAvro(r, manifest, 'm.avro'));
    expect(back[0]?.sequenceNumber).toBe(7);
    expect(back[0]?.fileSequenceNumber).toBe(7);
    expect(back[0]?.dataFile.partition).toEqual({ event_time_day: 20778 });
    expect(back[0]?.dataFile.lowerBounds?.get(1)?.toString()).toBe('a');
    expect(back[0]?.dataFile.valueCounts?.get(1)).toBe(10);
    expect(back[1]?.sequenceNumber).toBe(3);
    expect(back[1]?.snapshotId).toBe(41);
    expect(back[1]?.dataFile.partition).toEqual({ event_time_day: null });
  });

  it('round-trips a manifest list with ids 500-519', async () => {
    const bytes = await encodeAvroFile(MANIFEST_LIST_SCHEMA, [manifestFileToAvro(manifest)], {
      'snapshot-id': '42',
    });
    const { records, metadata } = await decodeAvroFile(bytes, 'snap.avro');
    expect(records.map((r) => manifestFileFromAvro(r, 'snap.avro'))).toEqual([manifest]);
    const header = JSON.parse(metadata['avro.schema'] ?? '{}') as { fields: { 'field-id': number }[] };
    expect(header.fields.map((f) => f['field-id'])).toEqual([
      500, 501, 502, 517, 515, 516, 503, 504, 505, 506, 512, 513, 514, 507, 519,
    ]);
    expect(JSON.stringify(header)).toContain('"element-id":508');
  });

  it('reports a garbled Avro file as IcebergMetadataError naming it', async () => {
    await expect(decodeAvroFile(Buffer.from('not avro at all'), '/x/snap-1.avro')).rejects.toThrow(
      /Iceberg metadata file \/x\/snap-1\.avro/,
    );
  });
});

describe('table metadata JSON', () => {
  it('builds v2 metadata with schema, partition spec (field ids from 1000), sort orders and no snapshot', () => {
    const m = newTableMetadata(
      {
        columns: [
          { id: 1, name: 'event_id', type: 'string', required: true },
          { id: 2, name: 'event_time', type: 'timestamptz', required: true },
        ],
        partitionBy: [{ sourceColumn: 'event_time', transform: 'day' }],
        sortBy: [{ column: 'event_time', direction: 'desc' }],
        properties: { owner: 'shoplake' },
      },
      'file:///w/silver.db/events',
      1000,
    );
    expect(m).toMatchObject({
      'format-version': 2,
      location: 'file:///w/silver.db/events',
      'last-sequence-number': 0,
      'last-updated-ms': 1000,
      'last-column-id': 2,
      'current-schema-id': 0,
      'default-spec-id': 0,
      'last-partition-id': 1000,
      'current-snapshot-id': -1,
      'default-sort-order-id': 1,
      refs: {},
      snapshots: [],
    });
    expect(m['table-uuid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(m['partition-specs']).toEqual([
      {
        'spec-id': 0,
        fields: [{ 'source-id': 2, 'field-id': 1000, name: 'event_time_day', transform: 'day' }],
      },
    ]);
    expect(m['sort-orders'][1]).toEqual({
      'order-id': 1,
      fields: [{ transform: 'identity', 'source-id': 2, direction: 'desc', 'null-order': 'nulls-last' }],
    });
    expect(m.properties.owner).toBe('shoplake');
    expect(parseTableMetadata(serializeTableMetadata(m), 'v1.metadata.json')).toEqual(m);
  });

  it('rejects partitioning a string by day and unknown partition columns', () => {
    const columns = [{ id: 1, name: 'a', type: 'string' as const, required: true }];
    expect(() =>
      newTableMetadata({ columns, partitionBy: [{ sourceColumn: 'a', transform: 'day' }] }, 'file:///x'),
    ).toThrow(/needs a date or timestamp/);
    expect(() =>
      newTableMetadata({ columns, partitionBy: [{ sourceColumn: 'b', transform: 'identity' }] }, 'file:///x'),
    ).toThrow(/not in the schema/);
  });

  it('names the file when metadata is not JSON, not v2, or inconsistent', () => {
    expect(() => parseTableMetadata('{"format-version": 2', '/t/v3.metadata.json')).toThrow(
      IcebergMetadataError,
    );
    expect(() => parseTableMetadata('{"format-version": 2', '/t/v3.metadata.json')).toThrow(
      /\/t\/v3\.metadata\.json: not valid JSON/,
    );
    expect(() => parseTableMetadata('{"format-version": 1}', '/t/v3.metadata.json')).toThrow(
      /not valid Iceberg v2/,
    );
    const m = newTableMetadata(
      { columns: [{ id: 1, name: 'a', type: 'string', required: true }] },
      'file:///x',
    );
    const broken = { ...m, 'current-snapshot-id': 5 };
    expect(() => parseTableMetadata(JSON.stringify(broken), '/t/v2.metadata.json')).toThrow(
      /current-snapshot-id 5 is not in snapshots/,
    );
  });
});
