/**
 * Reads and writes whole text objects by URI: `s3://bucket/key` on AWS (Athena query results,
 * model artifacts), `file:///abs/path` locally. One port, so the training Lambdas run
 * unchanged in both places.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../shared/aws-clients.ts';

export class UnsupportedUriError extends Error {
  constructor(readonly uri: string) {
    super(`unsupported object URI ${JSON.stringify(uri.slice(0, 200))} (expected s3:// or file://)`);
    this.name = 'UnsupportedUriError';
  }
}

function parseS3(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m?.[1] && m[2] ? { bucket: m[1], key: m[2] } : undefined;
}

export interface ObjectIo {
  readText(uri: string): Promise<string>;
  writeText(uri: string, body: string): Promise<void>;
}

/** The default implementation: S3 through the shared client, files atomically (temp + rename). */
export function objectIo(
  client: Pick<S3Client, 'send'> | (() => Pick<S3Client, 'send'>) = s3Client,
): ObjectIo {
  let s3: Pick<S3Client, 'send'> | undefined;
  const get = () => {
    s3 ??= typeof client === 'function' ? client() : client;
    return s3;
  };
  return {
    async readText(uri) {
      if (uri.startsWith('file://')) return readFile(fileURLToPath(uri), 'utf8');
      const loc = parseS3(uri);
      if (!loc) throw new UnsupportedUriError(uri);
      const res = await get().send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      if (!res.Body) return '';
      return res.Body.transformToString('utf8');
    },
    async writeText(uri, body) {
      if (uri.startsWith('file://')) {
        const path = fileURLToPath(uri);
        await mkdir(dirname(path), { recursive: true });
        const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
        await writeFile(tmp, body);
        await rename(tmp, path);
        return;
      }
      const loc = parseS3(uri);
      if (!loc) throw new UnsupportedUriError(uri);
      await get().send(
        new PutObjectCommand({
          Bucket: loc.bucket,
          Key: loc.key,
          Body: body,
          ContentType: 'application/x-ndjson',
        }),
      );
    },
  };
}

/** Joins a base URI (ending in `/` or not) and a relative key. */
export function joinUri(base: string, key: string): string {
  return `${base.replace(/\/+$/, '')}/${key}`;
}
