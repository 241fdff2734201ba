/**
 * An Iceberg v2 table on the local file system: reading snapshots (time travel), and every write
 * as an optimistic, atomic commit.
 *
 * Commit protocol (same idea as Iceberg's Hadoop catalog): metadata versions are
 * `metadata/v<N>.metadata.json`. A writer builds version N+1 from the version N it read, writes
 * it under a temporary name and publishes it with `link(tmp, vN+1)`, which fails if the file
 * exists — so exactly one writer wins each version, on any POSIX file system, across processes.
 * A loser re-reads the latest version and re-applies its change (appends always can; overwrites
 * and compactions only if the data they replace was not changed concurrently, otherwise
 * `CommitConflictError`). `version-hint.text` is then updated; readers trust it only as a
 * starting point and probe for newer versions, so a stale hint never hides a commit.
 */
import { randomInt, randomUUID } from 'node:crypto';
import {
  access,
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { type BackoffPolicy, retryWithBackoff } from '../../lambdas/shared/retry.ts';
import { faultPoint } from '../fault-points.ts';
import {
  type DataFile,
  decodeAvroFile,
  ENTRY_STATUS,
  encodeAvroFile,
  entryFromAvro,
  entryToAvro,
  type FieldSummary,
  FORMAT_VERSION,
  MANIFEST_LIST_SCHEMA,
  type ManifestEntry,
  type ManifestFile,
  manifestEntrySchema,
  manifestFileFromAvro,
  manifestFileToAvro,
  type PartitionFieldType,
} from './avro.ts';
import { duckdbFileListSql } from './duckdb.ts';
import { CommitConflictError, IcebergMetadataError, IcebergValidationError } from './errors.ts';
import {
  currentSnapshot,
  hasInexactSnapshotIds,
  NO_SNAPSHOT,
  type PartitionSpec,
  parseTableMetadata,
  type Snapshot,
  type SnapshotOperation,
  schemaById,
  serializeTableMetadata,
  specById,
  type TableMetadata,
} from './metadata.ts';
import { type ColumnType, findField, type IcebergSchema, toIcebergFields } from './schema.ts';
import { type PartitionValue, transformResultType } from './transforms.ts';
import { partitionValueBound } from './values.ts';
import { toLocalPath, writeDataFiles } from './writer.ts';

/** What a commit did; `commitMs` is the metadata commit alone (data writing excluded). */
export interface CommitResult {
  ident: string;
  operation: SnapshotOperation | 'schema' | 'expire' | 'noop';
  /** The table's current snapshot after the commit (-1 if the table is still empty). */
  snapshotId: number;
  sequenceNumber: number;
  version: number;
  metadataLocation: string;
  addedFiles: number;
  deletedFiles: number;
  addedRecords: number;
  deletedRecords: number;
  /** 1 when the first attempt won; more when concurrent writers forced re-applies. */
  attempts: number;
  commitMs: number;
  totalMs: number;
}

/** Scope of a copy-on-write overwrite. */
export type OverwriteScope =
  | { whole: true }
  | {
      partitions: 'affected';
      /** Partition tuples (by partition field name) to empty even if the query has no rows for them. */
      alsoReplace?: Record<string, PartitionValue>[];
    };

export interface PlanOptions {
  /** Read this snapshot instead of the current one. */
  snapshotId?: number | bigint;
  /** Read the snapshot that was current at this time (epoch ms). */
  asOfMs?: number;
}

/** Options of a commit retry loop. */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
}
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 25, baseDelayMs: 5 };

const METADATA_FILE = /^v(\d+)\.metadata\.json$/;
const MANIFEST_CACHE_LIMIT = 4096;
const manifestCache = new Map<string, ManifestEntry[]>();
const manifestListCache = new Map<string, ManifestFile[]>();

function cacheSet<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= MANIFEST_CACHE_LIMIT) {
    const first = cache.keys().next();
    if (!first.done) cache.delete(first.value);
  }
  cache.set(key, value);
}

/**
 * Manifest entries for newly written data files. Sequence numbers stay null so the entries
 * inherit the snapshot's at commit time, which lets one manifest survive commit retries.
 */
function addedEntries(files: readonly DataFile[], snapshotId: number): ManifestEntry[] {
  return files.map((f) => ({
    status: ENTRY_STATUS.ADDED,
    snapshotId,
    sequenceNumber: null,
    fileSequenceNumber: null,
    dataFile: f,
  }));
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** A random snapshot id below 2^53 (Avro longs are JS numbers in avsc). */
export function newSnapshotId(): number {
  return randomInt(1, 2 ** 47) * 64 + randomInt(0, 64);
}

/** Reads the version number in `version-hint.text`, or undefined if absent/garbled. */
async function readHint(metadataDir: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt(
      (await readFile(path.join(metadataDir, 'version-hint.text'), 'utf8')).trim(),
      10,
    );
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds the latest metadata version of a table directory: the hint, then probing forward
 * (a concurrent writer may have committed after the hint was written), or a directory listing
 * when there is no hint. Returns undefined if the directory holds no metadata at all.
 */
export async function latestVersion(metadataDir: string): Promise<number | undefined> {
  let version = await readHint(metadataDir);
  if (version === undefined) {
    let names: string[];
    try {
      names = await readdir(metadataDir);
    } catch (err: unknown) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
    const versions = names.map((n) => METADATA_FILE.exec(n)?.[1]).filter((v): v is string => v !== undefined);
    if (versions.length === 0) return undefined;
    version = Math.max(...versions.map(Number));
  } else if (!(await fileExists(metadataFile(metadataDir, version)))) {
    throw new IcebergMetadataError(
      metadataFile(metadataDir, version),
      'missing (named by version-hint.text)',
    );
  }
  while (await fileExists(metadataFile(metadataDir, version + 1))) version += 1;
  return version;
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/** Path of metadata version N. */
export function metadataFile(metadataDir: string, version: number): string {
  return path.join(metadataDir, `v${version}.metadata.json`);
}

/** Reads and parses one metadata version. */
export async function readMetadataFile(file: string): Promise<TableMetadata> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err: unknown) {
    throw new IcebergMetadataError(file, isErrno(err, 'ENOENT') ? 'missing' : 'unreadable', { cause: err });
  }
  return parseTableMetadata(text, file);
}

/** The records of a committed Avro metadata file (manifest list or manifest). */
async function readAvroRecords(file: string, what: string): Promise<Record<string, unknown>[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err: unknown) {
    throw new IcebergMetadataError(file, isErrno(err, 'ENOENT') ? `${what} missing` : 'unreadable', {
      cause: err,
    });
  }
  return (await decodeAvroFile(bytes, file)).records;
}

/** Reads a manifest list (cached: files are immutable once committed). */
export async function readManifestList(location: string): Promise<ManifestFile[]> {
  const cached = manifestListCache.get(location);
  if (cached) return cached;
  const file = toLocalPath(location);
  const list = (await readAvroRecords(file, 'manifest list')).map((r) => manifestFileFromAvro(r, file));
  cacheSet(manifestListCache, location, list);
  return list;
}

/** Reads a manifest's entries, with sequence numbers inherited from its manifest-list entry. */
export async function readManifest(manifest: ManifestFile): Promise<ManifestEntry[]> {
  const key = `${manifest.manifestPath}@${manifest.sequenceNumber}`;
  const cached = manifestCache.get(key);
  if (cached) return cached;
  const file = toLocalPath(manifest.manifestPath);
  const entries = (await readAvroRecords(file, 'manifest')).map((r) => entryFromAvro(r, manifest, file));
  cacheSet(manifestCache, key, entries);
  return entries;
}

function partitionKey(p: Record<string, PartitionValue>, spec: PartitionSpec): string {
  return JSON.stringify(spec.fields.map((f) => p[f.name] ?? null));
}

/** A pending change, re-applied to the latest metadata on every commit attempt. */
interface PendingChange {
  /** Builds the new metadata from `base`; throws CommitConflictError if it cannot apply. */
  apply(
    base: TableMetadata,
    attempt: number,
  ): Promise<{ metadata: TableMetadata; stats?: Partial<CommitResult> }>;
  /** Files this attempt wrote that must go if the attempt loses. */
  attemptFiles: string[];
}

/**
 * One Iceberg table of the local catalog. Holds the metadata version it last read; writes
 * always re-read the latest version on conflict, so a stale object never loses a commit.
 */
export class IcebergTable {
  readonly ident: string;
  readonly tableDir: string;
  metadataLocation: string;
  metadata: TableMetadata;
  version: number;
  retry: RetryPolicy = DEFAULT_RETRY;

  constructor(ident: string, tableDir: string, version: number, metadata: TableMetadata) {
    this.ident = ident;
    this.tableDir = tableDir;
    this.version = version;
    this.metadata = metadata;
    this.metadataLocation = metadataFile(this.metadataDir, version);
  }

  get metadataDir(): string {
    return path.join(this.tableDir, 'metadata');
  }

  /**
   * Re-reads the latest committed metadata version. The file is parsed again even when the
   * version did not change, so a writer never commits on top of a file that became unreadable.
   */
  async refresh(): Promise<this> {
    const version = await latestVersion(this.metadataDir);
    if (version === undefined) throw new IcebergMetadataError(this.metadataDir, 'no metadata files');
    this.metadata = await readMetadataFile(metadataFile(this.metadataDir, version));
    this.version = version;
    this.metadataLocation = metadataFile(this.metadataDir, version);
    return this;
  }

  /** The current snapshot, or undefined for a table never written. */
  currentSnapshot(): Snapshot | undefined {
    return currentSnapshot(this.metadata);
  }

  /** All snapshots still in the metadata, oldest first. */
  snapshots(): Snapshot[] {
    return [...this.metadata.snapshots].sort((a, b) => a['sequence-number'] - b['sequence-number']);
  }

  /** The current schema (or the schema of a given id). */
  schema(schemaId?: number): IcebergSchema {
    return schemaById(this.metadata, schemaId);
  }

  /** The default partition spec. */
  spec(): PartitionSpec {
    return specById(this.metadata);
  }

  /** Resolves a snapshot by id or by time (the snapshot current at `asOfMs`). */
  snapshotFor(opts: PlanOptions = {}): Snapshot | undefined {
    const m = this.metadata;
    if (opts.snapshotId !== undefined) {
      const id = Number(opts.snapshotId);
      const s = m.snapshots.find((x) => x['snapshot-id'] === id);
      if (!s) throw new IcebergValidationError(`${this.ident} has no snapshot ${String(opts.snapshotId)}`);
      return s;
    }
    if (opts.asOfMs !== undefined) {
      const asOf = opts.asOfMs;
      const entry = m['snapshot-log'].filter((l) => l['timestamp-ms'] <= asOf).at(-1);
      if (!entry)
        throw new IcebergValidationError(`${this.ident} had no snapshot at ${new Date(asOf).toISOString()}`);
      const s = m.snapshots.find((x) => x['snapshot-id'] === entry['snapshot-id']);
      if (!s)
        throw new IcebergValidationError(`snapshot ${entry['snapshot-id']} of ${this.ident} has expired`);
      return s;
    }
    return currentSnapshot(m);
  }

  /** Live manifest entries (ADDED/EXISTING) of a snapshot. */
  async liveEntries(snapshot: Snapshot | undefined): Promise<ManifestEntry[]> {
    if (!snapshot) return [];
    const manifests = await readManifestList(snapshot['manifest-list']);
    const all = await Promise.all(manifests.map((mf) => readManifest(mf)));
    return all.flat().filter((e) => e.status !== ENTRY_STATUS.DELETED);
  }

  /**
   * The data files of the current snapshot, or of a past one (time travel): what a reader must
   * scan. Paths are location URIs; `toLocalPath` turns them into file paths.
   */
  async planFiles(opts: PlanOptions = {}): Promise<DataFile[]> {
    return (await this.liveEntries(this.snapshotFor(opts))).map((e) => e.dataFile);
  }

  /** Total records of a snapshot (from its summary, no manifest read). */
  recordCount(opts: PlanOptions = {}): number {
    const s = this.snapshotFor(opts);
    return s ? Number(s.summary['total-records'] ?? 0) : 0;
  }

  // ---------------------------------------------------------------------------------------
  // Writes
  // ---------------------------------------------------------------------------------------

  /** Runs `selectSql` on DuckDB, writes its rows as data files and appends them. */
  async appendQuery(conn: DuckDBConnection, selectSql: string): Promise<CommitResult> {
    const started = performance.now();
    await this.refresh();
    const files = await this.writeQuery(conn, selectSql);
    if (files.length === 0) return this.noop(started);
    return this.withCleanup(files, () => this.appendFiles(files, started));
  }

  /**
   * Copy-on-write overwrite: writes the query's rows, then replaces either the whole table or
   * the partitions the new rows fall in (plus `alsoReplace`). Fails with `CommitConflictError`
   * if, since `readSnapshotId` (default: the snapshot this object last read), a concurrent
   * commit changed the data being replaced — no silent lost update.
   */
  async overwriteQuery(
    conn: DuckDBConnection,
    selectSql: string,
    scope: OverwriteScope,
    opts: { readSnapshotId?: number } = {},
  ): Promise<CommitResult> {
    const started = performance.now();
    // The snapshot the caller's data was computed from: by default the one this object last
    // read (the caller's view of the table), captured before refreshing to the latest version.
    const readSnapshot = opts.readSnapshotId ?? this.metadata['current-snapshot-id'];
    await this.refresh();
    const files = await this.writeQuery(conn, selectSql);
    return this.withCleanup(files, () => this.overwriteFiles(files, scope, readSnapshot, started));
  }

  /** Writes data files for the current schema/spec without committing them. */
  async writeQuery(conn: DuckDBConnection, selectSql: string): Promise<DataFile[]> {
    const m = this.metadata;
    const sortOrder = m['sort-orders'].find((o) => o['order-id'] === m['default-sort-order-id']);
    if (!sortOrder) throw new IcebergMetadataError(this.metadataLocation, 'default sort order missing');
    return writeDataFiles(conn, selectSql, {
      schema: this.schema(),
      spec: this.spec(),
      sortOrder,
      tableDir: this.tableDir,
    });
  }

  private async withCleanup(files: DataFile[], commit: () => Promise<CommitResult>): Promise<CommitResult> {
    try {
      return await commit();
    } catch (err: unknown) {
      await Promise.all(files.map((f) => rm(toLocalPath(f.filePath), { force: true })));
      throw err;
    }
  }

  private noop(started: number): CommitResult {
    const s = this.currentSnapshot();
    return {
      ident: this.ident,
      operation: 'noop',
      snapshotId: s?.['snapshot-id'] ?? NO_SNAPSHOT,
      sequenceNumber: s?.['sequence-number'] ?? 0,
      version: this.version,
      metadataLocation: this.metadataLocation,
      addedFiles: 0,
      deletedFiles: 0,
      addedRecords: 0,
      deletedRecords: 0,
      attempts: 0,
      commitMs: 0,
      totalMs: performance.now() - started,
    };
  }

  /** Appends already-written data files (e.g. from `writeQuery`) in one snapshot. Retryable. */
  async appendFiles(files: DataFile[], started = performance.now()): Promise<CommitResult> {
    if (files.length === 0) return this.noop(started);
    const snapshotId = newSnapshotId();
    let addedManifest: ManifestFile | undefined;
    const change: PendingChange = {
      attemptFiles: [],
      apply: async (base, attempt) => {
        const spec = specById(base);
        checkFilesFitSpec(files, spec);
        // Written once: ADDED entries inherit sequence numbers, so the manifest survives retries.
        addedManifest ??= await this.writeManifest(base, addedEntries(files, snapshotId), snapshotId);
        const parent = currentSnapshot(base);
        let kept = parent ? (await readManifestList(parent['manifest-list'])).filter(hasLiveFiles) : [];
        kept = await this.mergeManifests(base, kept, snapshotId, change.attemptFiles);
        return this.newSnapshot(base, {
          snapshotId,
          attempt,
          operation: 'append',
          manifests: [addedManifest, ...kept],
          added: files,
          deleted: [],
          attemptFiles: change.attemptFiles,
        });
      },
    };
    try {
      return await this.commit(change, started);
    } catch (err: unknown) {
      if (addedManifest) await rm(toLocalPath(addedManifest.manifestPath), { force: true });
      throw err;
    }
  }

  /** Commits `files` replacing the scope's current files (copy-on-write). */
  async overwriteFiles(
    files: DataFile[],
    scope: OverwriteScope,
    readSnapshotId: number,
    started = performance.now(),
  ): Promise<CommitResult> {
    const replacePartitions = (base: TableMetadata): Set<string> | 'all' => {
      const spec = specById(base);
      if ('whole' in scope || spec.fields.length === 0) return 'all';
      const keys = new Set(files.map((f) => partitionKey(f.partition, spec)));
      for (const p of scope.alsoReplace ?? []) keys.add(partitionKey(p, spec));
      return keys;
    };
    return this.replaceFiles(
      files,
      async (base, live) => {
        const spec = specById(base);
        const which = replacePartitions(base);
        const inScope = (e: ManifestEntry): boolean =>
          which === 'all' ||
          (e.dataFile.specId === spec['spec-id'] && which.has(partitionKey(e.dataFile.partition, spec)));
        const now = live.filter(inScope);
        if (base['current-snapshot-id'] !== readSnapshotId) {
          const before = (
            await this.liveEntries(base.snapshots.find((s) => s['snapshot-id'] === readSnapshotId))
          ).filter(inScope);
          const a = new Set(before.map((e) => e.dataFile.filePath));
          const b = new Set(now.map((e) => e.dataFile.filePath));
          if (a.size !== b.size || [...a].some((p) => !b.has(p))) {
            throw new CommitConflictError(
              this.ident,
              'a concurrent commit changed the data this overwrite replaces',
            );
          }
        }
        return now;
      },
      'overwrite',
      started,
    );
  }

  /**
   * The shared copy-on-write commit: `toDelete` picks the live entries to remove from the latest
   * base (and may throw `CommitConflictError`); `files` are added. Manifests holding removed
   * files are rewritten (EXISTING / DELETED entries); the others are carried over as they are.
   */
  private async replaceFiles(
    files: DataFile[],
    toDelete: (base: TableMetadata, live: ManifestEntry[]) => Promise<ManifestEntry[]>,
    operation: SnapshotOperation,
    started: number,
  ): Promise<CommitResult> {
    const snapshotId = newSnapshotId();
    let addedManifest: ManifestFile | undefined;
    const change: PendingChange = {
      attemptFiles: [],
      apply: async (base, attempt) => {
        checkFilesFitSpec(files, specById(base));
        const parent = currentSnapshot(base);
        const manifests = parent ? await readManifestList(parent['manifest-list']) : [];
        const perManifest = await Promise.all(
          manifests.map(async (mf) => ({ mf, entries: await readManifest(mf) })),
        );
        const live = perManifest.flatMap((x) => x.entries.filter((e) => e.status !== ENTRY_STATUS.DELETED));
        const deleted = await toDelete(base, live);
        const deletedPaths = new Set(deleted.map((e) => e.dataFile.filePath));
        if (files.length === 0 && deleted.length === 0)
          return { metadata: base, stats: { operation: 'noop' } };
        if (files.length > 0) {
          addedManifest ??= await this.writeManifest(base, addedEntries(files, snapshotId), snapshotId);
        }
        const out: ManifestFile[] = addedManifest ? [addedManifest] : [];
        for (const { mf, entries } of perManifest) {
          if (!hasLiveFiles(mf)) continue;
          const liveEntries = entries.filter((e) => e.status !== ENTRY_STATUS.DELETED);
          if (!liveEntries.some((e) => deletedPaths.has(e.dataFile.filePath))) {
            out.push(mf);
            continue;
          }
          const rewritten: ManifestEntry[] = liveEntries.map((e) =>
            deletedPaths.has(e.dataFile.filePath)
              ? { ...e, status: ENTRY_STATUS.DELETED, snapshotId }
              : { ...e, status: ENTRY_STATUS.EXISTING },
          );
          const written = await this.writeManifest(base, rewritten, snapshotId, mf.partitionSpecId);
          change.attemptFiles.push(written.manifestPath);
          out.push(written);
        }
        return this.newSnapshot(base, {
          snapshotId,
          attempt,
          operation: files.length === 0 ? 'delete' : operation,
          manifests: out,
          added: files,
          deleted: deleted.map((e) => e.dataFile),
          attemptFiles: change.attemptFiles,
        });
      },
    };
    try {
      return await this.commit(change, started);
    } catch (err: unknown) {
      if (addedManifest) await rm(toLocalPath(addedManifest.manifestPath), { force: true });
      throw err;
    }
  }

  /**
   * Schema evolution: adds an optional column with a new field id (last-column-id + 1) in a new
   * schema version. Old data files simply lack the field; readers return null for it.
   */
  async addColumn(name: string, type: ColumnType, opts: { doc?: string } = {}): Promise<CommitResult> {
    const started = performance.now();
    return this.commit(
      {
        attemptFiles: [],
        apply: async (base) => {
          const current = schemaById(base);
          if (findField(current.fields, name)) {
            throw new IcebergValidationError(`${this.ident} already has a column ${name}`);
          }
          const id = base['last-column-id'] + 1;
          const { fields, lastColumnId } = toIcebergFields(
            [{ id, name, type, required: false, ...(opts.doc ? { doc: opts.doc } : {}) }],
            id + 1,
          );
          const schemaId = Math.max(...base.schemas.map((s) => s['schema-id'])) + 1;
          const schema: IcebergSchema = {
            ...current,
            'schema-id': schemaId,
            fields: [...current.fields, ...fields],
          };
          return {
            metadata: {
              ...base,
              'last-updated-ms': Date.now(),
              'last-column-id': Math.max(base['last-column-id'], lastColumnId),
              schemas: [...base.schemas, schema],
              'current-schema-id': schemaId,
            },
            stats: { operation: 'schema' },
          };
        },
      },
      started,
    );
  }

  /**
   * Removes old snapshots (older than `olderThanMs` and beyond the `retainLast` newest; the
   * current snapshot always stays) and then deletes the manifest lists, manifests and data files
   * that no retained snapshot references. Files are deleted only after the commit succeeded.
   */
  async expireSnapshots(
    opts: { olderThanMs?: number; retainLast?: number } = {},
  ): Promise<CommitResult & { deletedPaths: string[] }> {
    const started = performance.now();
    let expired: Snapshot[] = [];
    let retained: Snapshot[] = [];
    const result = await this.commit(
      {
        attemptFiles: [],
        apply: async (base) => {
          const current = base['current-snapshot-id'];
          const sorted = [...base.snapshots].sort((a, b) => b['sequence-number'] - a['sequence-number']);
          const keepLast = Math.max(1, opts.retainLast ?? 1);
          const refIds = new Set(Object.values(base.refs).map((r) => r['snapshot-id']));
          retained = sorted.filter(
            (s, i) =>
              s['snapshot-id'] === current ||
              refIds.has(s['snapshot-id']) ||
              i < keepLast ||
              (opts.olderThanMs !== undefined && s['timestamp-ms'] >= opts.olderThanMs) ||
              (opts.olderThanMs === undefined && opts.retainLast === undefined),
          );
          const keepIds = new Set(retained.map((s) => s['snapshot-id']));
          expired = base.snapshots.filter((s) => !keepIds.has(s['snapshot-id']));
          if (expired.length === 0) return { metadata: base, stats: { operation: 'noop' } };
          return {
            metadata: {
              ...base,
              'last-updated-ms': Date.now(),
              snapshots: base.snapshots.filter((s) => keepIds.has(s['snapshot-id'])),
              'snapshot-log': base['snapshot-log'].filter((l) => keepIds.has(l['snapshot-id'])),
            },
            stats: { operation: 'expire' },
          };
        },
      },
      started,
    );
    const deletedPaths: string[] = [];
    if (expired.length > 0) {
      const reachable = await this.reachableFiles(retained);
      const candidates = await this.reachableFiles(expired);
      for (const file of candidates) {
        if (reachable.has(file)) continue;
        await rm(toLocalPath(file), { force: true });
        deletedPaths.push(file);
      }
    }
    return { ...result, deletedPaths };
  }

  /**
   * Deletes files under the table directory that no snapshot references and that are older
   * than `olderThanMs` (default: 3 days ago, Iceberg's default) — leftovers of writers that
   * crashed between writing and committing. The age limit protects files of writes still in
   * flight; metadata JSON versions and the version hint are never touched.
   */
  async removeOrphanFiles(opts: { olderThanMs?: number } = {}): Promise<string[]> {
    await this.refresh();
    const olderThan = opts.olderThanMs ?? Date.now() - 3 * 86_400_000;
    const referenced = new Set([...(await this.reachableFiles(this.metadata.snapshots))].map(toLocalPath));
    const deleted: string[] = [];
    const entries = await readdir(this.tableDir, { withFileTypes: true, recursive: true });
    for (const e of entries) {
      if (!e.isFile()) continue;
      const file = path.join(e.parentPath, e.name);
      if (referenced.has(file) || METADATA_FILE.test(e.name) || e.name === 'version-hint.text') continue;
      const info = await stat(file).catch(() => undefined);
      if (!info || info.mtimeMs >= olderThan) continue;
      await rm(file, { force: true });
      deleted.push(file);
    }
    return deleted.sort();
  }

  private async reachableFiles(snapshots: Snapshot[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const s of snapshots) {
      out.add(s['manifest-list']);
      let manifests: ManifestFile[];
      try {
        manifests = await readManifestList(s['manifest-list']);
      } catch (err: unknown) {
        if (err instanceof IcebergMetadataError) continue;
        throw err;
      }
      for (const mf of manifests) {
        out.add(mf.manifestPath);
        for (const e of await readManifest(mf)) {
          // A DELETED entry records a removal; the file is live only where another entry says so.
          if (e.status !== ENTRY_STATUS.DELETED) out.add(e.dataFile.filePath);
        }
      }
    }
    return out;
  }

  /**
   * Compaction: rewrites each partition holding more than one file smaller than
   * `targetFileBytes` into one file (operation `replace`: same rows, fewer files).
   */
  async compact(
    conn: DuckDBConnection,
    opts: { targetFileBytes?: number; minInputFiles?: number } = {},
  ): Promise<CommitResult> {
    const started = performance.now();
    await this.refresh();
    const target = opts.targetFileBytes ?? 128 * 1024 * 1024;
    const minInput = Math.max(2, opts.minInputFiles ?? 2);
    const spec = this.spec();
    const readSnapshot = this.currentSnapshot();
    const live = (await this.liveEntries(readSnapshot)).filter(
      (e) => e.dataFile.specId === spec['spec-id'] && e.dataFile.fileSizeInBytes < target,
    );
    const groups = new Map<string, ManifestEntry[]>();
    for (const e of live) {
      const k = partitionKey(e.dataFile.partition, spec);
      const group = groups.get(k);
      if (group) group.push(e);
      else groups.set(k, [e]);
    }
    const rewrite = [...groups.values()].filter((g) => g.length >= minInput);
    if (rewrite.length === 0) return this.noop(started);
    const written: DataFile[] = [];
    try {
      for (const group of rewrite) {
        const scan = duckdbFileListSql(
          this.schema(),
          group.map((e) => e.dataFile),
        );
        written.push(...(await this.writeQuery(conn, scan)));
      }
    } catch (err: unknown) {
      await Promise.all(written.map((f) => rm(toLocalPath(f.filePath), { force: true })));
      throw err;
    }
    const replaced = new Set(rewrite.flat().map((e) => e.dataFile.filePath));
    return this.withCleanup(written, () =>
      this.replaceFiles(
        written,
        async (_base, baseLive) => {
          const stillLive = baseLive.filter((e) => replaced.has(e.dataFile.filePath));
          if (stillLive.length !== replaced.size) {
            throw new CommitConflictError(
              this.ident,
              'a concurrent commit removed files this compaction rewrites',
            );
          }
          return stillLive;
        },
        'replace',
        started,
      ),
    );
  }

  // ---------------------------------------------------------------------------------------
  // Metadata files and the commit loop
  // ---------------------------------------------------------------------------------------

  /**
   * Keeps the manifest count of a table bounded (Iceberg's `commit.manifest-merge.enabled`):
   * once a snapshot would carry `commit.manifest.min-count-to-merge` (default 100) manifests,
   * the live entries of those of the default spec are rewritten into one manifest as EXISTING
   * entries, keeping their snapshot ids and sequence numbers.
   */
  private async mergeManifests(
    base: TableMetadata,
    manifests: ManifestFile[],
    snapshotId: number,
    attemptFiles: string[],
  ): Promise<ManifestFile[]> {
    const minCount = Number(base.properties['commit.manifest.min-count-to-merge'] ?? 100);
    if (base.properties['commit.manifest-merge.enabled'] === 'false' || manifests.length + 1 < minCount) {
      return manifests;
    }
    const specId = base['default-spec-id'];
    const mergeable = manifests.filter((m) => m.partitionSpecId === specId);
    if (mergeable.length < 2) return manifests;
    const entries = (await Promise.all(mergeable.map((m) => readManifest(m))))
      .flat()
      .filter((e) => e.status !== ENTRY_STATUS.DELETED)
      .map((e) => ({ ...e, status: ENTRY_STATUS.EXISTING }));
    const merged = await this.writeManifest(base, entries, snapshotId, specId);
    attemptFiles.push(merged.manifestPath);
    return [merged, ...manifests.filter((m) => m.partitionSpecId !== specId)];
  }

  private partitionFieldTypes(m: TableMetadata, specId: number): PartitionFieldType[] {
    return specById(m, specId).fields.map((p) => {
      const source = findFieldById(m, p['source-id']);
      const sourceType = typeof source?.type === 'string' ? source.type : 'string';
      return {
        fieldId: p['field-id'],
        name: p.name,
        resultType: transformResultType(p.transform, sourceType),
      };
    });
  }

  private async writeManifest(
    base: TableMetadata,
    entries: ManifestEntry[],
    snapshotId: number,
    specId = base['default-spec-id'],
  ): Promise<ManifestFile> {
    const partitionFields = this.partitionFieldTypes(base, specId);
    const schema = manifestEntrySchema(partitionFields);
    const spec = specById(base, specId);
    const bytes = await encodeAvroFile(
      schema,
      entries.map((e) => entryToAvro(e, partitionFields)),
      {
        schema: JSON.stringify(schemaById(base)),
        'schema-id': String(base['current-schema-id']),
        'partition-spec': JSON.stringify(spec.fields),
        'partition-spec-id': String(specId),
        'format-version': String(FORMAT_VERSION),
        content: 'data',
      },
    );
    await mkdir(this.metadataDir, { recursive: true });
    const file = path.join(this.metadataDir, `${randomUUID()}-m0.avro`);
    await writeFile(file, bytes);
    const count = (status: number) => entries.filter((e) => e.status === status);
    const rows = (es: ManifestEntry[]) => es.reduce((n, e) => n + e.dataFile.recordCount, 0);
    const added = count(ENTRY_STATUS.ADDED);
    const existing = count(ENTRY_STATUS.EXISTING);
    const deleted = count(ENTRY_STATUS.DELETED);
    const seqs = entries.map((e) => e.sequenceNumber).filter((s): s is number => s !== null);
    return {
      manifestPath: `file://${file}`,
      manifestLength: bytes.length,
      partitionSpecId: specId,
      content: 0,
      // Placeholders for ADDED-only manifests: fixed when the manifest list is written.
      sequenceNumber: -1,
      minSequenceNumber: seqs.length > 0 && added.length === 0 ? Math.min(...seqs) : -1,
      addedSnapshotId: snapshotId,
      addedFilesCount: added.length,
      existingFilesCount: existing.length,
      deletedFilesCount: deleted.length,
      addedRowsCount: rows(added),
      existingRowsCount: rows(existing),
      deletedRowsCount: rows(deleted),
      partitions: partitionSummaries(
        partitionFields,
        entries.filter((e) => e.status !== ENTRY_STATUS.DELETED).map((e) => e.dataFile),
      ),
    };
  }

  private async newSnapshot(
    base: TableMetadata,
    p: {
      snapshotId: number;
      attempt: number;
      operation: SnapshotOperation;
      manifests: ManifestFile[];
      added: DataFile[];
      deleted: DataFile[];
      attemptFiles: string[];
    },
  ): Promise<{ metadata: TableMetadata; stats: Partial<CommitResult> }> {
    const sequenceNumber = base['last-sequence-number'] + 1;
    const parent = currentSnapshot(base);
    const manifests = p.manifests.map((mf) =>
      mf.sequenceNumber === -1
        ? {
            ...mf,
            sequenceNumber,
            minSequenceNumber: mf.minSequenceNumber === -1 ? sequenceNumber : mf.minSequenceNumber,
          }
        : mf,
    );
    const listFile = path.join(this.metadataDir, `snap-${p.snapshotId}-${p.attempt}-${randomUUID()}.avro`);
    const bytes = await encodeAvroFile(MANIFEST_LIST_SCHEMA, manifests.map(manifestFileToAvro), {
      'snapshot-id': String(p.snapshotId),
      'parent-snapshot-id': parent ? String(parent['snapshot-id']) : 'null',
      'sequence-number': String(sequenceNumber),
      'format-version': String(FORMAT_VERSION),
    });
    await writeFile(listFile, bytes);
    p.attemptFiles.push(`file://${listFile}`);
    const sum = (fs: DataFile[], f: (d: DataFile) => number) => fs.reduce((n, d) => n + f(d), 0);
    const prev = parent?.summary ?? { operation: 'append' };
    const prevNum = (k: string) => Number(prev[k] ?? 0);
    const addedRecords = sum(p.added, (d) => d.recordCount);
    const deletedRecords = sum(p.deleted, (d) => d.recordCount);
    const spec = specById(base);
    const changed = new Set([...p.added, ...p.deleted].map((d) => partitionKey(d.partition, spec)));
    const summary: Snapshot['summary'] = {
      operation: p.operation,
      'added-data-files': String(p.added.length),
      'deleted-data-files': String(p.deleted.length),
      'added-records': String(addedRecords),
      'deleted-records': String(deletedRecords),
      'added-files-size': String(sum(p.added, (d) => d.fileSizeInBytes)),
      'removed-files-size': String(sum(p.deleted, (d) => d.fileSizeInBytes)),
      'changed-partition-count': String(changed.size),
      'total-records': String(prevNum('total-records') + addedRecords - deletedRecords),
      'total-data-files': String(prevNum('total-data-files') + p.added.length - p.deleted.length),
      'total-files-size': String(
        prevNum('total-files-size') +
          sum(p.added, (d) => d.fileSizeInBytes) -
          sum(p.deleted, (d) => d.fileSizeInBytes),
      ),
      'total-delete-files': '0',
      'total-position-deletes': '0',
      'total-equality-deletes': '0',
    };
    const now = Math.max(Date.now(), base['last-updated-ms'] + 1);
    const snapshot: Snapshot = {
      'snapshot-id': p.snapshotId,
      ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
      'sequence-number': sequenceNumber,
      'timestamp-ms': now,
      'manifest-list': `file://${listFile}`,
      summary,
      'schema-id': base['current-schema-id'],
    };
    return {
      metadata: {
        ...base,
        'last-sequence-number': sequenceNumber,
        'last-updated-ms': now,
        'current-snapshot-id': p.snapshotId,
        snapshots: [...base.snapshots, snapshot],
        'snapshot-log': [...base['snapshot-log'], { 'snapshot-id': p.snapshotId, 'timestamp-ms': now }],
        refs: { ...base.refs, main: { 'snapshot-id': p.snapshotId, type: 'branch' } },
      },
      stats: {
        operation: p.operation,
        snapshotId: p.snapshotId,
        sequenceNumber,
        addedFiles: p.added.length,
        deletedFiles: p.deleted.length,
        addedRecords,
        deletedRecords,
      },
    };
  }

  /**
   * The optimistic commit loop: apply the change to the latest version, publish version N+1
   * with an exclusive link, retry from the new latest version when another writer won.
   */
  private async commit(change: PendingChange, started: number): Promise<CommitResult> {
    const commitStarted = performance.now();
    try {
      return await this.commitLoop(change, started, commitStarted);
    } catch (err: unknown) {
      await Promise.all(change.attemptFiles.splice(0).map((f) => rm(toLocalPath(f), { force: true })));
      throw err;
    }
  }

  private async commitLoop(
    change: PendingChange,
    started: number,
    commitStarted: number,
  ): Promise<CommitResult> {
    const policy: BackoffPolicy = {
      maxAttempts: this.retry.maxAttempts,
      baseMs: this.retry.baseDelayMs,
      capMs: this.retry.baseDelayMs * 64,
      jitter: 'equal',
    };
    const outcome = await retryWithBackoff<CommitResult, undefined>(policy, async (attempt) => {
      const base = this.metadata;
      const baseVersion = this.version;
      if (hasInexactSnapshotIds(base)) {
        throw new IcebergValidationError(
          `${this.ident}: the table has 64-bit snapshot ids (written by a Java engine such as Spark); shoplake's local writer reads it but does not commit to it`,
        );
      }
      const { metadata, stats } = await change.apply(base, attempt);
      if (metadata === base) {
        return { done: { ...this.noop(started), ...stats, attempts: attempt, operation: 'noop' } };
      }
      const next: TableMetadata = {
        ...metadata,
        'metadata-log': [
          ...base['metadata-log'],
          { 'metadata-file': `file://${this.metadataLocation}`, 'timestamp-ms': base['last-updated-ms'] },
        ].slice(-Number(base.properties['write.metadata.previous-versions-max'] ?? 100)),
      };
      const target = metadataFile(this.metadataDir, baseVersion + 1);
      const tmp = path.join(this.metadataDir, `.tmp-${randomUUID()}.metadata.json`);
      await writeFile(tmp, serializeTableMetadata(next));
      let won = false;
      faultPoint(`iceberg:before-link:${this.ident}`);
      try {
        await link(tmp, target);
        won = true;
        faultPoint(`iceberg:after-link:${this.ident}`);
      } catch (err: unknown) {
        if (!isErrno(err, 'EEXIST')) {
          await unlink(tmp).catch(() => undefined);
          throw err;
        }
      }
      await unlink(tmp).catch(() => undefined);
      if (won) {
        // Committed: these files now belong to the table and must never be cleaned up.
        change.attemptFiles.length = 0;
        this.metadata = next;
        this.version = baseVersion + 1;
        this.metadataLocation = target;
        await this.writeHint(this.version);
        const snap = currentSnapshot(next);
        const committed: CommitResult = {
          ident: this.ident,
          operation: 'append',
          snapshotId: snap?.['snapshot-id'] ?? NO_SNAPSHOT,
          sequenceNumber: snap?.['sequence-number'] ?? 0,
          addedFiles: 0,
          deletedFiles: 0,
          addedRecords: 0,
          deletedRecords: 0,
          ...stats,
          version: this.version,
          metadataLocation: target,
          attempts: attempt,
          commitMs: performance.now() - commitStarted,
          totalMs: performance.now() - started,
        };
        return { done: committed };
      }
      // Lost the race: drop this attempt's files, re-read, re-apply after a backoff.
      await Promise.all(change.attemptFiles.splice(0).map((f) => rm(toLocalPath(f), { force: true })));
      await this.refresh();
      return { retry: undefined };
    });
    if (outcome.ok) return outcome.value;
    throw new CommitConflictError(
      this.ident,
      `gave up after ${this.retry.maxAttempts} attempts (too many concurrent commits)`,
    );
  }

  /**
   * Best effort by design: the commit already happened (the link), and readers probe past a
   * stale hint, so a failure here must not turn a committed write into a reported failure
   * (whose cleanup would delete committed files).
   */
  private async writeHint(version: number): Promise<void> {
    const tmp = path.join(this.metadataDir, `.tmp-${randomUUID()}.hint`);
    try {
      const current = await readHint(this.metadataDir);
      if (current !== undefined && current >= version) return;
      await writeFile(tmp, String(version));
      await rename(tmp, path.join(this.metadataDir, 'version-hint.text'));
    } catch {
      await unlink(tmp).catch(() => undefined);
    }
  }
}

function findFieldById(m: TableMetadata, id: number) {
  for (const s of [...m.schemas].reverse()) {
    const f = s.fields.find((x) => x.id === id);
    if (f) return f;
  }
  return undefined;
}

function hasLiveFiles(mf: ManifestFile): boolean {
  return mf.addedFilesCount + mf.existingFilesCount > 0;
}

function checkFilesFitSpec(files: DataFile[], spec: PartitionSpec): void {
  for (const f of files) {
    if (f.specId !== spec['spec-id']) {
      throw new CommitConflictError(
        '(table)',
        `data file ${f.filePath} was written for partition spec ${f.specId}`,
      );
    }
  }
}

function compareValues(a: Exclude<PartitionValue, null>, b: Exclude<PartitionValue, null>): number {
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : 0;
}

/** Manifest-list partition summaries: null presence and value bounds per partition field. */
export function partitionSummaries(fields: PartitionFieldType[], files: DataFile[]): FieldSummary[] {
  return fields.map((pf) => {
    let containsNull = false;
    let lo: Exclude<PartitionValue, null> | undefined;
    let hi: Exclude<PartitionValue, null> | undefined;
    for (const f of files) {
      const v = f.partition[pf.name] ?? null;
      if (v === null) {
        containsNull = true;
        continue;
      }
      if (lo === undefined || compareValues(v, lo) < 0) lo = v;
      if (hi === undefined || compareValues(v, hi) > 0) hi = v;
    }
    return {
      containsNull,
      containsNan: false,
      lowerBound: lo === undefined ? null : (partitionValueBound(pf.resultType, lo) ?? null),
      upperBound: hi === undefined ? null : (partitionValueBound(pf.resultType, hi) ?? null),
    };
  });
}
