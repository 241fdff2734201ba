/**
 * Builds the browser tracker with esbuild: `dist/shoplake.mjs` (ESM, for bundlers) and
 * `dist/shoplake.min.js` (minified IIFE defining `window.shoplake`, for a script tag), then
 * measures the IIFE minified and gzipped and fails above the size budget.
 * Run: `npm run build:tracker` (from the repository root).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';

export const TRACKER_DIR = dirname(fileURLToPath(import.meta.url));
export const DIST = join(TRACKER_DIR, 'dist');
export const IIFE_FILE = join(DIST, 'shoplake.min.js');
export const ESM_FILE = join(DIST, 'shoplake.mjs');
/** Size budget of the script-tag bundle, minified and gzipped. */
export const SIZE_BUDGET_BYTES = 5 * 1024;

export interface TrackerBuild {
  minBytes: number;
  gzipBytes: number;
  esmBytes: number;
}

export async function buildTracker(): Promise<TrackerBuild> {
  mkdirSync(DIST, { recursive: true });
  const entry = join(TRACKER_DIR, 'src', 'index.ts');
  const common: BuildOptions = {
    entryPoints: [entry],
    bundle: true,
    target: 'es2019',
    legalComments: 'none',
  };
  await build({ ...common, format: 'esm', outfile: ESM_FILE, platform: 'neutral' });
  await build({
    ...common,
    format: 'iife',
    globalName: 'shoplake',
    minify: true,
    outfile: IIFE_FILE,
    platform: 'browser',
  });
  const min = readFileSync(IIFE_FILE);
  const result = {
    minBytes: min.length,
    gzipBytes: gzipSync(min, { level: 9 }).length,
    esmBytes: readFileSync(ESM_FILE).length,
  };
  writeFileSync(
    join(DIST, 'size.json'),
    `${JSON.stringify({ ...result, budget: SIZE_BUDGET_BYTES }, null, 2)}\n`,
  );
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await buildTracker();
  process.stdout.write(
    `clients/web/dist/shoplake.min.js: ${r.minBytes} B minified, ${r.gzipBytes} B min+gzip (budget ${SIZE_BUDGET_BYTES} B); shoplake.mjs ${r.esmBytes} B\n`,
  );
  if (r.gzipBytes > SIZE_BUDGET_BYTES) {
    process.stderr.write(`tracker bundle is over its size budget\n`);
    process.exit(1);
  }
}
