import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createObjectStore,
  FileObjectStore,
  InvalidObjectKeyError,
  MemoryObjectStore,
  S3ObjectStore,
  UnsupportedStoreUriError,
} from '../../lambdas/shared/object-store.ts';
import { writeQuarantine } from '../../lambdas/shared/quarantine.ts';
import { now } from '../fixtures/events.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'shoplake-os-'));
  dirs.push(d);
  return d;
}

describe('createObjectStore', () => {
  it('chooses the implementation by scheme', async () => {
    const dir = await tempDir();
    expect(createObjectStore(pathToFileURL(`${dir}/`).href)).toBeInstanceOf(FileObjectStore);
    expect(createObjectStore('s3://my-lake/prefix/', { s3: { send: async () => ({}) } })).toBeInstanceOf(
      S3ObjectStore,
    );
    expect(createObjectStore('memory://t1')).toBe(createObjectStore('memory://t1'));
    expect(() => createObjectStore('/plain/path')).toThrow(UnsupportedStoreUriError);
    expect(() => createObjectStore('s3://')).toThrow(UnsupportedStoreUriError);
  });
});

describe('FileObjectStore', () => {
  it('writes atomically under its root, creating folders, and lists without temp files', async () => {
    const dir = await tempDir();
    const store = new FileObjectStore(pathToFileURL(`${dir}/`).href);
    await store.put('quarantine/source=ingest/dt=2026-11-21/a.jsonl', 'one\n');
    await store.put('quarantine/source=ingest/dt=2026-11-21/a.jsonl', 'two\n');
    expect(await readFile(join(dir, 'quarantine/source=ingest/dt=2026-11-21/a.jsonl'), 'utf8')).toBe('two\n');
    expect(await readdir(join(dir, 'quarantine/source=ingest/dt=2026-11-21'))).toEqual(['a.jsonl']);
    expect(await store.list('quarantine/')).toEqual(['quarantine/source=ingest/dt=2026-11-21/a.jsonl']);
    expect(await store.list('nothing/')).toEqual([]);
  });

  it('refuses keys that would leave the root', async () => {
    const store = new FileObjectStore(pathToFileURL(`${await tempDir()}/`).href);
    for (const key of ['../escape', 'a/../../b', '/etc/passwd', 'a\\..\\b']) {
      await expect(store.put(key, 'x')).rejects.toBeInstanceOf(InvalidObjectKeyError);
    }
  });

  it('is where quarantine writes locally', async () => {
    const dir = await tempDir();
    const store = createObjectStore(pathToFileURL(`${dir}/`).href);
    const key = await writeQuarantine(
      store,
      'consumer',
      [{ reason: 'invalid_json', detail: 'd', raw: '{' }],
      {
        now,
        name: 'fixed',
      },
    );
    expect(key).toBe('quarantine/source=consumer/dt=2026-11-21/fixed.jsonl');
    expect(JSON.parse(await readFile(join(dir, key ?? ''), 'utf8'))).toMatchObject({
      reason: 'invalid_json',
      raw: '{',
    });
  });
});

describe('S3ObjectStore', () => {
  it('puts under bucket and prefix with an NDJSON content type', async () => {
    const sent: PutObjectCommand[] = [];
    const store = new S3ObjectStore('s3://my-lake/root', {
      send: async (c: PutObjectCommand) => {
        sent.push(c);
        return {};
      },
    } as unknown as ConstructorParameters<typeof S3ObjectStore>[1]);
    await store.put('quarantine/x.jsonl', 'a\n');
    expect(sent[0]?.input).toMatchObject({
      Bucket: 'my-lake',
      Key: 'root/quarantine/x.jsonl',
      Body: 'a\n',
      ContentType: 'application/x-ndjson',
    });
    await expect(store.put('../x', '')).rejects.toBeInstanceOf(InvalidObjectKeyError);
  });
});

describe('MemoryObjectStore', () => {
  it('stores, lists and can be made to fail', async () => {
    const store = new MemoryObjectStore();
    await store.put('a/b.jsonl', new TextEncoder().encode('x'));
    expect(store.get('a/b.jsonl')).toBe('x');
    store.failWith = new Error('down');
    await expect(store.put('a/c.jsonl', 'y')).rejects.toThrow('down');
    expect(store.list()).toEqual(['a/b.jsonl']);
  });
});
