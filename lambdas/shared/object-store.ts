/**
 * ObjectStore: the one port through which handlers write objects (quarantine files, landing
 * files). The implementation is chosen by the URI scheme, so the same handler code writes to
 * S3 on AWS and to the local lake directory on this machine:
 *
 *  - `s3://bucket/prefix/`  → S3 `PutObject` (endpoint from `AWS_ENDPOINT_URL*`),
 *  - `file:///abs/dir/`     → files under that directory, written atomically (temp + rename),
 *  - `memory://name`        → an in-process map (unit tests, benchmarks).
 *
 * Object keys are always relative to the URI and are checked segment by segment, so a key
 * built from user input can never leave its prefix.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from './aws-clients.ts';

export interface PutOptions {
  /** MIME type; NDJSON by default since that is what handlers write. */
  readonly contentType?: string;
}

export interface ObjectStore {
  /** The URI this store writes under (for logs and summaries). */
  readonly uri: string;
  /** Writes (or overwrites) one object at `key`, relative to the store's URI. */
  put(key: string, body: string | Uint8Array, options?: PutOptions): Promise<void>;
}

export class InvalidObjectKeyError extends Error {
  constructor(readonly objectKey: string) {
    super(`invalid object key ${JSON.stringify(objectKey.slice(0, 200))}`);
    this.name = 'InvalidObjectKeyError';
  }
}

export class UnsupportedStoreUriError extends Error {
  constructor(readonly uri: string) {
    super(`unsupported object store URI ${JSON.stringify(uri)} (expected s3://, file:// or memory://)`);
    this.name = 'UnsupportedStoreUriError';
  }
}

const SEGMENT = /^[A-Za-z0-9._=:%-]{1,255}$/;

/**
 * Checks a relative object key: non-empty `/`-separated segments of a safe charset, no `.`/`..`.
 * Keys are built with `pathSegment` (keys.ts); this is the second line of defence.
 */
export function assertSafeObjectKey(key: string): string {
  const segments = key.split('/');
  for (const s of segments) {
    if (!SEGMENT.test(s) || s === '.' || s === '..') throw new InvalidObjectKeyError(key);
  }
  return key;
}

/** Writes objects to S3 under `s3://bucket/prefix/`. */
export class S3ObjectStore implements ObjectStore {
  readonly uri: string;
  readonly bucket: string;
  readonly prefix: string;

  constructor(
    uri: string,
    private readonly client: Pick<S3Client, 'send'> = s3Client(),
  ) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
    if (!m?.[1]) throw new UnsupportedStoreUriError(uri);
    this.uri = uri;
    this.bucket = m[1];
    const prefix = m[2] ?? '';
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  async put(key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<void> {
    assertSafeObjectKey(key);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `${this.prefix}${key}`,
        Body: body,
        ContentType: options.contentType ?? 'application/x-ndjson',
      }),
    );
  }
}

/**
 * Writes objects as files under a local directory. A write goes to a temporary file in the
 * same directory and is renamed into place, so readers never see a half-written object.
 */
export class FileObjectStore implements ObjectStore {
  readonly uri: string;
  readonly root: string;

  constructor(uri: string) {
    if (!uri.startsWith('file://')) throw new UnsupportedStoreUriError(uri);
    this.uri = uri;
    this.root = fileURLToPath(uri);
  }

  /** Absolute path of an object (for tests and the local runtime). */
  pathOf(key: string): string {
    return join(this.root, ...assertSafeObjectKey(key).split('/'));
  }

  async put(key: string, body: string | Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.${randomUUID()}.tmp`;
    try {
      await writeFile(temp, body);
      await rename(temp, target);
    } catch (error: unknown) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Lists object keys under a relative prefix (tests, CLI summaries). */
  async list(prefix = ''): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error: unknown) {
        if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return;
        throw error;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (!e.name.endsWith('.tmp')) out.push(relative(this.root, full).split(sep).join('/'));
      }
    };
    await walk(this.root);
    return out.filter((k) => k.startsWith(prefix)).sort();
  }

  async get(key: string): Promise<string> {
    return readFile(this.pathOf(key), 'utf8');
  }
}

/** Keeps objects in memory: unit tests and the "logic alone" benchmark. */
export class MemoryObjectStore implements ObjectStore {
  readonly uri: string;
  readonly objects = new Map<string, string>();
  /** Number of successful puts (an overwrite counts again). */
  puts = 0;
  /** Test hook: when set, `put` throws this error instead of storing. */
  failWith: Error | undefined;

  constructor(uri = 'memory://default') {
    this.uri = uri;
  }

  async put(key: string, body: string | Uint8Array): Promise<void> {
    assertSafeObjectKey(key);
    if (this.failWith) throw this.failWith;
    this.objects.set(key, typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
    this.puts += 1;
  }

  list(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  get(key: string): string | undefined {
    return this.objects.get(key);
  }
}

export interface ObjectStoreOptions {
  /** S3 client for `s3://` URIs; defaults to the shared client from aws-clients.ts. */
  readonly s3?: Pick<S3Client, 'send'>;
}

const memoryStores = new Map<string, MemoryObjectStore>();

/**
 * Picks the ObjectStore implementation from the URI scheme, so handlers take one env var
 * (`QUARANTINE_URI`, …) and work unchanged on AWS and locally. `memory://name` returns the same
 * instance for the same name within a process, so a test can inspect what a handler wrote.
 */
export function createObjectStore(uri: string, options: ObjectStoreOptions = {}): ObjectStore {
  if (uri.startsWith('s3://')) return new S3ObjectStore(uri, options.s3 ?? s3Client());
  if (uri.startsWith('file://')) return new FileObjectStore(uri);
  if (uri.startsWith('memory://')) {
    let store = memoryStores.get(uri);
    if (!store) {
      store = new MemoryObjectStore(uri);
      memoryStores.set(uri, store);
    }
    return store;
  }
  throw new UnsupportedStoreUriError(uri);
}
