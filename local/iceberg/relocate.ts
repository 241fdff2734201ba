/**
 * Relocation of local Iceberg tables whose directory was moved (`mv` of a state directory).
 *
 * Iceberg metadata stores absolute locations — the table `location`, manifest-list and
 * manifest paths, data file paths — and every Iceberg reader (pyiceberg, Spark, Trino, DuckDB)
 * expects them absolute, so shoplake keeps them absolute and rewrites them once after a move
 * instead: every metadata file of the table (metadata JSON versions, manifest lists, manifests)
 * has the old location prefix replaced by the new one, each file replaced atomically (temporary
 * file + rename). Data files hold no paths and are untouched. Relocating is idempotent: a table
 * already at its location is left alone, and an interrupted relocation is finished by the next.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeAvroFile, encodeAvroFile } from './avro.ts';
import { IcebergMetadataError } from './errors.ts';
import { latestVersion, metadataFile, readMetadataFile } from './table.ts';
import { toFileUri, toLocalPath } from './writer.ts';

/** What `relocateTable` did. */
export interface RelocationResult {
  readonly tableDir: string;
  /** Location the metadata named before (undefined if it already matched). */
  readonly from: string | undefined;
  readonly to: string;
  readonly filesRewritten: number;
}

/** The location a table's latest metadata names, and where the table really is. */
export async function tableLocation(tableDir: string): Promise<{ recorded: string; actual: string }> {
  const metadataDir = path.join(tableDir, 'metadata');
  const version = await latestVersion(metadataDir);
  if (version === undefined)
    throw new IcebergMetadataError(metadataDir, 'table directory has no metadata files');
  const metadata = await readMetadataFile(metadataFile(metadataDir, version));
  return { recorded: toLocalPath(metadata.location), actual: path.resolve(tableDir) };
}

/** Replaces `from` (a location prefix) with `to` in every string of a JSON-like value. */
function rewriteStrings(value: unknown, replace: (s: string) => string): unknown {
  if (typeof value === 'string') return replace(value);
  if (Array.isArray(value)) return value.map((v) => rewriteStrings(v, replace));
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = rewriteStrings(v, replace);
    return out;
  }
  return value;
}

function prefixReplacer(fromDir: string, toDir: string): (s: string) => string {
  const fromUri = toFileUri(fromDir);
  const toUri = toFileUri(toDir);
  return (s) => {
    if (s === fromUri || s.startsWith(`${fromUri}/`)) return toUri + s.slice(fromUri.length);
    if (s === fromDir || s.startsWith(`${fromDir}/`)) return toDir + s.slice(fromDir.length);
    return s;
  };
}

async function replaceFile(file: string, content: Buffer | string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.relocate-${randomUUID()}`);
  await writeFile(tmp, content);
  try {
    await rename(tmp, file);
  } catch (error: unknown) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/**
 * Rewrites a moved table's metadata to its current directory. With `from`, that prefix is
 * replaced (use it to finish an interrupted relocation); by default the location recorded in
 * the latest metadata version.
 */
export async function relocateTable(tableDir: string, from?: string): Promise<RelocationResult> {
  const { recorded, actual } = await tableLocation(tableDir);
  const source = from ?? recorded;
  if (source === actual) return { tableDir: actual, from: undefined, to: actual, filesRewritten: 0 };
  const replace = prefixReplacer(source, actual);
  const metadataDir = path.join(actual, 'metadata');
  let rewritten = 0;
  for (const name of (await readdir(metadataDir)).sort()) {
    const file = path.join(metadataDir, name);
    if (name.endsWith('.metadata.json') && !name.startsWith('.')) {
      const text = await readFile(file, 'utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error: unknown) {
        throw new IcebergMetadataError(file, 'not valid JSON; cannot relocate', { cause: error });
      }
      const next = JSON.stringify(rewriteStrings(parsed, replace));
      if (next !== JSON.stringify(parsed)) {
        await replaceFile(file, next);
        rewritten += 1;
      }
    } else if (name.endsWith('.avro') && !name.startsWith('.')) {
      const { records, metadata } = await decodeAvroFile(await readFile(file), file);
      const schemaText = metadata['avro.schema'];
      if (!schemaText) throw new IcebergMetadataError(file, 'Avro file without a schema; cannot relocate');
      const { 'avro.schema': _schema, 'avro.codec': _codec, ...meta } = metadata;
      const next = records.map((r) => rewriteStrings(r, replace) as Record<string, unknown>);
      if (JSON.stringify(next) !== JSON.stringify(records)) {
        const schema = JSON.parse(schemaText) as Record<string, unknown>;
        await replaceFile(file, await encodeAvroFile(schema, next, meta));
        rewritten += 1;
      }
    }
  }
  return { tableDir: actual, from: source, to: actual, filesRewritten: rewritten };
}
