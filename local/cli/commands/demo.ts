/**
 * `shoplake demo`: the whole pipeline on the embedded default in one command. Starts the local
 * runtime, runs every demo stage (`local/demo/stages/*.ts`, by `order`: 100 ingest, then what
 * later capabilities add), prints a summary, and keeps the local API running until Ctrl-C
 * unless `--no-serve`.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';
import { analyticsPages, DASHBOARD_PATH, localHandlerLoader } from '../../analytics/local-server.ts';
import type { DemoContext, DemoOptions, DemoStage } from '../../demo/types.ts';
import { openLocalEngine } from '../../engine/open.ts';
import { startHttpServer } from '../../runtime/http-server.ts';
import { resetStateDir } from '../../runtime/runtime.ts';
import { withRuntime } from '../../runtime/session.ts';
import { reporter } from '../output.ts';

export const DEFAULT_DEMO_EVENTS = 10_000;
export const DEFAULT_DEMO_SEED = 42;
export const DEFAULT_API_PORT = 3000;

function isStage(value: unknown): value is DemoStage {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<DemoStage>;
  return typeof s.name === 'string' && typeof s.order === 'number' && typeof s.run === 'function';
}

/** Every stage module in `local/demo/stages/`, sorted by `order`. */
export async function loadDemoStages(): Promise<DemoStage[]> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '../../demo/stages');
  const stages: DemoStage[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort()) {
    const mod: unknown = await import(pathToFileURL(join(dir, file)).href);
    const stage = (mod as { stage?: unknown }).stage;
    if (!isStage(stage)) throw new Error(`demo stage module ${file} does not export a valid \`stage\``);
    stages.push(stage);
  }
  return stages.sort((a, b) => a.order - b.order);
}

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('generate a synthetic shop and run the whole pipeline locally (no AWS account needed)')
    .option('--events <n>', 'number of synthetic events', positiveInt('--events'), DEFAULT_DEMO_EVENTS)
    .option('--seed <n>', 'random seed of the synthetic shop', positiveInt('--seed'), DEFAULT_DEMO_SEED)
    .option(
      '--days <n>',
      'days of shop history the events span (e.g. 120 for four months on the dashboard)',
      positiveInt('--days'),
      1,
    )
    .option('--no-serve', 'exit after the summary instead of serving the local API')
    .option('--port <port>', 'port of the local API', positiveInt('--port'), DEFAULT_API_PORT)
    .option('--keep-state', 'keep the state of earlier runs (default: start from an empty state dir)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress output on stderr')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{
        events: number;
        seed: number;
        days: number;
        serve: boolean;
        port: number;
        keepState?: boolean;
        json?: boolean;
        quiet?: boolean;
        stateDir: string;
      }>();
      const report = reporter({ json: opts.json, quiet: opts.quiet });
      const options: DemoOptions = {
        events: opts.events,
        seed: opts.seed,
        days: Math.max(1, opts.days),
        serve: opts.serve,
        json: opts.json ?? false,
      };
      if (!opts.keepState) {
        resetStateDir(opts.stateDir);
        report.progress(`fresh state in ${opts.stateDir} (use --keep-state to keep earlier runs)`);
      }
      const stages = await loadDemoStages();
      await withRuntime({ stateDir: opts.stateDir, report }, async (session) => {
        const { runtime } = session;
        const results: Record<string, unknown> = {};
        const started = Date.now();
        for (const stage of stages) {
          report.progress(`▶ stage ${stage.order} ${stage.name}`);
          const ctx: DemoContext = { runtime, report, options, results };
          results[stage.name] = await stage.run(ctx);
        }
        const summary = {
          state_dir: runtime.stateDir,
          elapsed_ms: Date.now() - started,
          stages: results,
        };
        report.result(summary, () => {
          const lines = [`shoplake demo — state in ${runtime.stateDir}`];
          for (const stage of stages) {
            lines.push('', `■ ${stage.name}`);
            const described = stage.describe?.(results[stage.name]) ?? [JSON.stringify(results[stage.name])];
            lines.push(...described.map((l) => `  ${l}`));
          }
          return lines.join('\n');
        });
        if (!opts.serve) return;
        runtime.applyEnv();
        const engine = await openLocalEngine(runtime.stateDir);
        try {
          const server = await startHttpServer({
            port: opts.port,
            log: (m) => report.progress(m),
            loadHandler: localHandlerLoader(engine),
            pages: analyticsPages(),
          });
          process.stderr.write(
            `\nlocal API on ${server.url}  (POST /events, GET /trending, /users/{id}/recommendations, /items/{id}/similar, /analytics/{dataset}) — Ctrl-C to stop\n` +
              `dashboard: ${server.url}${DASHBOARD_PATH}  ·  OpenAPI: ${server.url}/openapi.json\n`,
          );
          await session.untilSignal();
          await server.close();
        } finally {
          await engine.close();
        }
      });
    });
}
