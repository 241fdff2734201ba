/**
 * Avro manifests and manifest lists (Iceberg spec v2 "Manifests" / "Manifest Lists"), written
 * with avsc. The raw schema objects carry the spec's `field-id` attributes (readers such as
 * pyiceberg resolve fields by id); avsc writes a raw schema into the file header unchanged,
 * whereas a `Type` would drop the unknown attributes.
 */
import { PassThrough } from 'node:stream';
import avro from 'avsc';
import { IcebergMetadataError } from './errors.ts';
import type { PartitionValue } from './transforms.ts';

/** Field ids and record names fixed by the spec. */
type AvroSchema = Record<string, unknown> | string | unknown[];

export const FORMAT_VERSION = 2;

/** A data file of a table (spec `data_file`), plus the spec id it was written with. */
export interface DataFile {
  /** 0 = data (this library writes no delete files). */
  content: number;
  /** Location URI (`file:///…`). */
  filePath: string;
  fileFormat: 'PARQUET';
  /** Partition tuple keyed by partition field name. */
  partition: Record<string, PartitionValue>;
  recordCount: number;
  fileSizeInBytes: number;
  columnSizes?: Map<number, number>;
  valueCounts?: Map<number, number>;
  nullValueCounts?: Map<number, number>;
  nanValueCounts?: Map<number, number>;
  lowerBounds?: Map<number, Buffer>;
  upperBounds?: Map<number, Buffer>;
  splitOffsets?: number[];
  sortOrderId?: number | null;
  /** Partition spec the tuple belongs to (the manifest's spec). */
  specId: number;
}

export const ENTRY_STATUS = { EXISTING: 0, ADDED: 1, DELETED: 2 } as const;

export interface ManifestEntry {
  status: number;
  snapshotId: number | null;
  sequenceNumber: number | null;
  fileSequenceNumber: number | null;
  dataFile: DataFile;
}

export interface FieldSummary {
  containsNull: boolean;
  containsNan?: boolean | null;
  lowerBound?: Buffer | null;
  upperBound?: Buffer | null;
}

/** One entry of a manifest list (spec `manifest_file`). */
export interface ManifestFile {
  manifestPath: string;
  manifestLength: number;
  partitionSpecId: number;
  content: number;
  sequenceNumber: number;
  minSequenceNumber: number;
  addedSnapshotId: number;
  addedFilesCount: number;
  existingFilesCount: number;
  deletedFilesCount: number;
  addedRowsCount: number;
  existingRowsCount: number;
  deletedRowsCount: number;
  partitions?: FieldSummary[] | null;
}

/** A partition field as the manifest's partition struct needs it. */
export interface PartitionFieldType {
  fieldId: number;
  name: string;
  /** Iceberg result type of the transform. */
  resultType: string;
}

const opt = (name: string, type: AvroSchema, fieldId: number, doc?: string): Record<string, unknown> => ({
  name,
  type: ['null', type],
  default: null,
  'field-id': fieldId,
  ...(doc ? { doc } : {}),
});
const req = (name: string, type: AvroSchema, fieldId: number, doc?: string): Record<string, unknown> => ({
  name,
  type,
  'field-id': fieldId,
  ...(doc ? { doc } : {}),
});
const intMap = (keyId: number, valueId: number, valueType: string): AvroSchema => ({
  type: 'array',
  logicalType: 'map',
  items: {
    type: 'record',
    name: `k${keyId}_v${valueId}`,
    fields: [
      { name: 'key', type: 'int', 'field-id': keyId },
      { name: 'value', type: valueType, 'field-id': valueId },
    ],
  },
});

/** Avro type of an Iceberg primitive (partition tuples). */
export function avroPrimitive(type: string): AvroSchema {
  switch (type) {
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'timestamptz':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true };
    case 'timestamp':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false };
    case 'binary':
      return 'bytes';
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'boolean':
    case 'string':
      return type;
    default:
      throw new IcebergMetadataError('(manifest)', `no Avro type for partition type ${type}`);
  }
}

/** The `manifest_entry` Avro schema of a v2 data manifest for one partition spec. */
export function manifestEntrySchema(partitionFields: readonly PartitionFieldType[]): Record<string, unknown> {
  const partition = {
    type: 'record',
    name: 'r102',
    fields: partitionFields.map((f) => opt(f.name, avroPrimitive(f.resultType), f.fieldId)),
  };
  const dataFile = {
    type: 'record',
    name: 'r2',
    fields: [
      req('content', 'int', 134, 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes'),
      req('file_path', 'string', 100, 'Location URI with FS scheme'),
      req('file_format', 'string', 101, 'File format name: avro, orc, or parquet'),
      req('partition', partition, 102, 'Partition data tuple, schema based on the partition spec'),
      req('record_count', 'long', 103, 'Number of records in the file'),
      req('file_size_in_bytes', 'long', 104, 'Total file size in bytes'),
      opt('column_sizes', intMap(117, 118, 'long'), 108, 'Map of column id to total size on disk'),
      opt(
        'value_counts',
        intMap(119, 120, 'long'),
        109,
        'Map of column id to total count, including null and NaN',
      ),
      opt('null_value_counts', intMap(121, 122, 'long'), 110, 'Map of column id to null value count'),
      opt(
        'nan_value_counts',
        intMap(138, 139, 'long'),
        137,
        'Map of column id to number of NaN values in the column',
      ),
      opt('lower_bounds', intMap(126, 127, 'bytes'), 125, 'Map of column id to lower bound'),
      opt('upper_bounds', intMap(129, 130, 'bytes'), 128, 'Map of column id to upper bound'),
      opt('key_metadata', 'bytes', 131, 'Encryption key metadata blob'),
      opt('split_offsets', { type: 'array', items: 'long', 'element-id': 133 }, 132, 'Splittable offsets'),
      opt(
        'equality_ids',
        { type: 'array', items: 'int', 'element-id': 136 },
        135,
        'Equality comparison field IDs',
      ),
      opt('sort_order_id', 'int', 140, 'Sort order ID'),
    ],
  };
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      req('status', 'int', 0),
      opt('snapshot_id', 'long', 1),
      opt('sequence_number', 'long', 3),
      opt('file_sequence_number', 'long', 4),
      req('data_file', dataFile, 2),
    ],
  };
}

/** The `manifest_file` Avro schema of a v2 manifest list. */
export const MANIFEST_LIST_SCHEMA: Record<string, unknown> = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    req('manifest_path', 'string', 500, 'Location URI with FS scheme'),
    req('manifest_length', 'long', 501, 'Total file size in bytes'),
    req('partition_spec_id', 'int', 502, 'Spec ID used to write'),
    req('content', 'int', 517, 'Contents of the manifest: 0=data, 1=deletes'),
    req('sequence_number', 'long', 515, 'Sequence number when the manifest was added'),
    req('min_sequence_number', 'long', 516, 'Lowest sequence number in the manifest'),
    req('added_snapshot_id', 'long', 503, 'Snapshot ID that added the manifest'),
    req('added_files_count', 'int', 504, 'Added entry count'),
    req('existing_files_count', 'int', 505, 'Existing entry count'),
    req('deleted_files_count', 'int', 506, 'Deleted entry count'),
    req('added_rows_count', 'long', 512, 'Added rows count'),
    req('existing_rows_count', 'long', 513, 'Existing rows count'),
    req('deleted_rows_count', 'long', 514, 'Deleted rows count'),
    opt(
      'partitions',
      {
        type: 'array',
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            req('contains_null', 'boolean', 509, 'True if any file has a null partition value'),
            opt('contains_nan', 'boolean', 518, 'True if any file has a nan partition value'),
            opt('lower_bound', 'bytes', 510, 'Partition lower bound for all files'),
            opt('upper_bound', 'bytes', 511, 'Partition upper bound for all files'),
          ],
        },
        'element-id': 508,
      },
      507,
      'Summary for each partition',
    ),
    opt('key_metadata', 'bytes', 519, 'Encryption key metadata blob'),
  ],
};

/** Writes Avro records to an in-memory Avro object container file. */
export async function encodeAvroFile(
  schema: Record<string, unknown>,
  records: readonly Record<string, unknown>[],
  metadata: Record<string, string>,
): Promise<Buffer> {
  const meta: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v, 'utf8');
  // `metadata` is a real BlockEncoder option that avsc's typings omit.
  const options: ConstructorParameters<typeof avro.streams.BlockEncoder>[1] & {
    metadata: Record<string, Buffer>;
  } = {
    metadata: meta,
    codec: 'deflate',
    writeHeader: true,
  };
  const encoder = new avro.streams.BlockEncoder(schema as avro.Schema, options);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    encoder.on('data', (c: Buffer) => chunks.push(c));
    encoder.on('end', () => resolve(Buffer.concat(chunks)));
    encoder.on('error', reject);
  });
  for (const r of records) encoder.write(r);
  encoder.end();
  return done;
}

/**
 * Avro `long` for reading metadata written by Java engines (Spark, Athena): their snapshot ids
 * are random 63-bit numbers, beyond what avsc's default long accepts. Values come back as the
 * nearest JS number (exact up to 2^53: counts, sizes, sequence numbers); see
 * `hasInexactSnapshotIds` for how writers treat such tables.
 */
const LOSSY_LONG = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => Number(buf.readBigInt64LE()),
  toBuffer: (n: number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(Math.trunc(n)));
    return buf;
  },
  fromJSON: Number,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'number' && Number.isInteger(n),
  compare: (a: number, b: number) => (a === b ? 0 : a < b ? -1 : 1),
});

/** Reads an Avro object container file: its records and header metadata. */
export async function decodeAvroFile(
  bytes: Buffer,
  fileForErrors: string,
): Promise<{ records: Record<string, unknown>[]; metadata: Record<string, string> }> {
  try {
    const decoder = new avro.streams.BlockDecoder({
      noDecode: false,
      parseHook: (schema: unknown) =>
        avro.Type.forSchema(schema as avro.Schema, { registry: { long: LOSSY_LONG } }),
    } as ConstructorParameters<typeof avro.streams.BlockDecoder>[0]);
    const records: Record<string, unknown>[] = [];
    let metadata: Record<string, string> = {};
    const input = new PassThrough();
    const done = new Promise<void>((resolve, reject) => {
      decoder.on('metadata', (_type: unknown, _codec: unknown, header: { meta: Record<string, Buffer> }) => {
        metadata = Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString('utf8')]));
      });
      decoder.on('data', (r: Record<string, unknown>) => records.push(r));
      decoder.on('end', () => resolve());
      decoder.on('error', reject);
    });
    input.pipe(decoder);
    input.end(bytes);
    await done;
    return { records, metadata };
  } catch (err: unknown) {
    throw new IcebergMetadataError(fileForErrors, `not a readable Avro file (${errorText(err)})`, {
      cause: err,
    });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const mapToAvro = <V>(m: Map<number, V> | undefined): { key: number; value: V }[] | null =>
  m ? [...m].map(([key, value]) => ({ key, value })) : null;

/** Converts an entry to the Avro record of `manifestEntrySchema`. */
export function entryToAvro(
  e: ManifestEntry,
  partitionFields: readonly PartitionFieldType[],
): Record<string, unknown> {
  const f = e.dataFile;
  const partition: Record<string, unknown> = {};
  for (const p of partitionFields) partition[p.name] = f.partition[p.name] ?? null;
  return {
    status: e.status,
    snapshot_id: e.snapshotId,
    sequence_number: e.sequenceNumber,
    file_sequence_number: e.fileSequenceNumber,
    data_file: {
      content: f.content,
      file_path: f.filePath,
      file_format: f.fileFormat,
      partition,
      record_count: f.recordCount,
      file_size_in_bytes: f.fileSizeInBytes,
      column_sizes: mapToAvro(f.columnSizes),
      value_counts: mapToAvro(f.valueCounts),
      null_value_counts: mapToAvro(f.nullValueCounts),
      nan_value_counts: mapToAvro(f.nanValueCounts),
      lower_bounds: mapToAvro(f.lowerBounds),
      upper_bounds: mapToAvro(f.upperBounds),
      key_metadata: null,
      split_offsets: f.splitOffsets ?? null,
      equality_ids: null,
      sort_order_id: f.sortOrderId ?? null,
    },
  };
}

function num(v: unknown, what: string, file: string): number {
  if (typeof v === 'number') return v;
  throw new IcebergMetadataError(file, `field ${what} is not a number`);
}
function numOrNull(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}
function rec(v: unknown, what: string, file: string): Record<string, unknown> {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  throw new IcebergMetadataError(file, `field ${what} is not a record`);
}
function avroMap<V>(v: unknown, isV: (x: unknown) => x is V): Map<number, V> | undefined {
  if (!Array.isArray(v)) return undefined;
  const m = new Map<number, V>();
  for (const kv of v) {
    if (typeof kv === 'object' && kv !== null) {
      const { key, value } = kv as { key: unknown; value: unknown };
      if (typeof key === 'number' && isV(value)) m.set(key, value);
    }
  }
  return m;
}
const isNumber = (x: unknown): x is number => typeof x === 'number';
const isBuffer = (x: unknown): x is Buffer => Buffer.isBuffer(x);

/** Parses a manifest entry record; ADDED entries inherit sequence numbers from the manifest. */
export function entryFromAvro(
  r: Record<string, unknown>,
  manifest: ManifestFile,
  file: string,
): ManifestEntry {
  const f = rec(r.data_file, 'data_file', file);
  const status = num(r.status, 'status', file);
  let sequenceNumber = numOrNull(r.sequence_number);
  let fileSequenceNumber = numOrNull(r.file_sequence_number);
  let snapshotId = numOrNull(r.snapshot_id);
  if (status === ENTRY_STATUS.ADDED) {
    sequenceNumber ??= manifest.sequenceNumber;
    fileSequenceNumber ??= manifest.sequenceNumber;
    snapshotId ??= manifest.addedSnapshotId;
  }
  const partition: Record<string, PartitionValue> = {};
  for (const [k, v] of Object.entries(rec(f.partition, 'partition', file))) {
    partition[k] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
  }
  const dataFile: DataFile = {
    content: num(f.content, 'content', file),
    filePath: String(f.file_path),
    fileFormat: 'PARQUET',
    partition,
    recordCount: num(f.record_count, 'record_count', file),
    fileSizeInBytes: num(f.file_size_in_bytes, 'file_size_in_bytes', file),
    specId: manifest.partitionSpecId,
  };
  const columnSizes = avroMap(f.column_sizes, isNumber);
  if (columnSizes) dataFile.columnSizes = columnSizes;
  const valueCounts = avroMap(f.value_counts, isNumber);
  if (valueCounts) dataFile.valueCounts = valueCounts;
  const nullValueCounts = avroMap(f.null_value_counts, isNumber);
  if (nullValueCounts) dataFile.nullValueCounts = nullValueCounts;
  const nanValueCounts = avroMap(f.nan_value_counts, isNumber);
  if (nanValueCounts) dataFile.nanValueCounts = nanValueCounts;
  const lowerBounds = avroMap(f.lower_bounds, isBuffer);
  if (lowerBounds) dataFile.lowerBounds = lowerBounds;
  const upperBounds = avroMap(f.upper_bounds, isBuffer);
  if (upperBounds) dataFile.upperBounds = upperBounds;
  if (Array.isArray(f.split_offsets)) dataFile.splitOffsets = f.split_offsets.filter(isNumber);
  if (typeof f.sort_order_id === 'number') dataFile.sortOrderId = f.sort_order_id;
  return { status, snapshotId, sequenceNumber, fileSequenceNumber, dataFile };
}

/** Converts a manifest-list entry to its Avro record. */
export function manifestFileToAvro(m: ManifestFile): Record<string, unknown> {
  return {
    manifest_path: m.manifestPath,
    manifest_length: m.manifestLength,
    partition_spec_id: m.partitionSpecId,
    content: m.content,
    sequence_number: m.sequenceNumber,
    min_sequence_number: m.minSequenceNumber,
    added_snapshot_id: m.addedSnapshotId,
    added_files_count: m.addedFilesCount,
    existing_files_count: m.existingFilesCount,
    deleted_files_count: m.deletedFilesCount,
    added_rows_count: m.addedRowsCount,
    existing_rows_count: m.existingRowsCount,
    deleted_rows_count: m.deletedRowsCount,
    partitions:
      m.partitions?.map((p) => ({
        contains_null: p.containsNull,
        contains_nan: p.containsNan ?? null,
        lower_bound: p.lowerBound ?? null,
        upper_bound: p.upperBound ?? null,
      })) ?? null,
    key_metadata: null,
  };
}

/** Parses a manifest-list record. */
export function manifestFileFromAvro(r: Record<string, unknown>, file: string): ManifestFile {
  const partitions = Array.isArray(r.partitions)
    ? r.partitions.map((p: unknown) => {
        const s = rec(p, 'partitions', file);
        return {
          containsNull: s.contains_null === true,
          containsNan: typeof s.contains_nan === 'boolean' ? s.contains_nan : null,
          lowerBound: Buffer.isBuffer(s.lower_bound) ? s.lower_bound : null,
          upperBound: Buffer.isBuffer(s.upper_bound) ? s.upper_bound : null,
        };
      })
    : null;
  return {
    manifestPath: String(r.manifest_path),
    manifestLength: num(r.manifest_length, 'manifest_length', file),
    partitionSpecId: num(r.partition_spec_id, 'partition_spec_id', file),
    content: num(r.content, 'content', file),
    sequenceNumber: num(r.sequence_number, 'sequence_number', file),
    minSequenceNumber: num(r.min_sequence_number, 'min_sequence_number', file),
    addedSnapshotId: num(r.added_snapshot_id, 'added_snapshot_id', file),
    addedFilesCount: num(r.added_files_count, 'added_files_count', file),
    existingFilesCount: num(r.existing_files_count, 'existing_files_count', file),
    deletedFilesCount: num(r.deleted_files_count, 'deleted_files_count', file),
    addedRowsCount: num(r.added_rows_count, 'added_rows_count', file),
    existingRowsCount: num(r.existing_rows_count, 'existing_rows_count', file),
    deletedRowsCount: num(r.deleted_rows_count, 'deleted_rows_count', file),
    partitions,
  };
}
