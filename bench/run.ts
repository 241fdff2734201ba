/**
 * `npm run bench`: runs every `bench/*.bench.ts` module's exported `run()` in file order,
 * prints one table per benchmark and writes all results as JSON to `bench/results/`.
 *
 * Add a benchmark by adding `bench/<name>.bench.ts` exporting `async function run(): Promise<object>`
 * (numbers and strings at the top level are tabulated; nested objects are kept in the JSON).
 * `npm run bench -- realtime iceberg` runs only the named benchmarks.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

const here = dirname(fileURLToPath(import.meta.url));

interface BenchOutcome {
  name: string;
  seconds: number;
  result?: unknown;
  error?: string;
}

function rows(result: unknown): [string, string][] {
  if (typeof result !== 'object' || result === null) return [['result', String(result)]];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(result)) {
    if (typeof v === 'number')
      out.push([
        k,
        Number.isInteger(v)
          ? v.toLocaleString('en-US')
          : v.toLocaleString('en-US', { maximumFractionDigits: 2 }),
      ]);
    else if (typeof v === 'string' || typeof v === 'boolean') out.push([k, String(v)]);
  }
  return out;
}

function table(title: string, entries: [string, string][]): string {
  const w = Math.max(10, ...entries.map(([k]) => k.length));
  const v = Math.max(8, ...entries.map(([, x]) => x.length));
  const line = `+${'-'.repeat(w + 2)}+${'-'.repeat(v + 2)}+`;
  return [title, line, ...entries.map(([k, x]) => `| ${k.padEnd(w)} | ${x.padStart(v)} |`), line].join('\n');
}

async function main(): Promise<number> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.includes(f.replace(/\.bench\.ts$/, '')))
    .sort();
  if (files.length === 0) {
    process.stderr.write(`no benchmarks matched ${only.join(', ')}\n`);
    return 1;
  }
  const outcomes: BenchOutcome[] = [];
  for (const file of files) {
    const name = file.replace(/\.bench\.ts$/, '');
    process.stderr.write(`▶ ${name}\n`);
    const started = performance.now();
    try {
      const mod: unknown = await import(pathToFileURL(join(here, file)).href);
      const run = (mod as { run?: unknown }).run;
      if (typeof run !== 'function') throw new Error(`${file} does not export run()`);
      const result: unknown = await (run as () => Promise<unknown>)();
      const seconds = (performance.now() - started) / 1000;
      outcomes.push({ name, seconds, result });
      process.stdout.write(`${table(`${name} (${seconds.toFixed(1)} s)`, rows(result))}\n\n`);
    } catch (error: unknown) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      outcomes.push({ name, seconds: (performance.now() - started) / 1000, error: message });
      process.stderr.write(`✗ ${name} failed: ${message}\n`);
    }
  }
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(dir, `bench-${stamp}.json`);
  const doc = {
    at: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: (await import('node:os')).cpus().length,
    benchmarks: outcomes,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(doc, null, 2)}\n`);
  process.stderr.write(`results written to ${file}\n`);
  return outcomes.some((o) => o.error) ? 1 : 0;
}

process.exitCode = await main();
