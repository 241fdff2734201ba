/**
 * `shoplake models`: the model registry of the local runtime — every trained version with its
 * status, metrics and training-data snapshots — and `shoplake models rollback VERSION`, which
 * points serving back at an earlier published version (the same `activate` the training
 * state machine's last task runs). `shoplake models ab start|stop|status` runs A/B tests
 * between two published versions: the pointer is written by the same `RecommendationStore`
 * methods as on AWS, and `status` reads the per-arm figures from gold with the dashboard's
 * `rec_ab_test` data-set SQL (the query the analytics API sends to Athena).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { OPEN_RANGE } from '../../../lambdas/analytics/analytics.ts';
import { ANALYTICS_SQL } from '../../../lambdas/shared/analytics/sql.generated.ts';
import { ID_PATTERN } from '../../../lambdas/shared/event-schema.ts';
import type {
  AbExperiment,
  ActivePointer,
  FinishedExperiment,
  RegistryEntry,
} from '../../../lambdas/shared/recommender/store.ts';
import { activateVersion } from '../../../lambdas/training/pipeline.ts';
import { openLocalEngine } from '../../engine/open.ts';
import type { Row } from '../../engine/types.ts';
import { withRuntime } from '../../runtime/session.ts';
import { fmt, reporter } from '../output.ts';
import { localRecommendationStore } from './train.ts';

/** A model version argument: checked while parsing, before the runtime starts (exit 2). */
function versionArg(value: string): string {
  if (!ID_PATTERN.test(value))
    throw new InvalidArgumentError(
      `model version must be 1-64 characters of A-Za-z0-9._:-, got ${JSON.stringify(value.slice(0, 80))}`,
    );
  return value;
}

/** Statuses `activate` accepts (lambdas/shared/recommender/store.ts). */
const ACTIVATABLE = new Set(['published', 'active', 'retired']);

export class UnknownModelVersionError extends Error {
  readonly available: { version: string; status: string }[];
  constructor(
    readonly version: string,
    entries: readonly RegistryEntry[],
  ) {
    const available = entries
      .filter((e) => ACTIVATABLE.has(e.status))
      .map((e) => ({ version: e.version, status: e.status }));
    super(
      `model version ${JSON.stringify(version)} does not exist in the registry; ${
        available.length > 0
          ? `versions you can roll back to: ${available.map((a) => `${a.version} (${a.status})`).join(', ')}`
          : 'no published model yet (run shoplake train or shoplake demo)'
      }`,
    );
    this.name = 'UnknownModelVersionError';
    this.available = available;
  }

  /** For `--json` errors (local/cli/errors.ts). */
  cliDetails(): Record<string, unknown> {
    return { available_versions: this.available };
  }
}

/** One line per version: status, model, headline metrics, training size, snapshots. */
export function renderRegistry(
  entries: readonly RegistryEntry[],
  active: string | undefined,
  experiment?: AbExperiment,
): string {
  if (entries.length === 0) return 'no model trained yet (run shoplake train or shoplake demo)';
  const lines = [
    '  version                      status     model           HR@10   NDCG@10  pop HR@10  interactions  trained at',
  ];
  for (const e of entries) {
    const m = e.metrics[e.model] ?? {};
    const p = e.metrics.popularity ?? {};
    const mark = e.version === active ? '*' : ' ';
    lines.push(
      `${mark} ${e.version.padEnd(28)} ${e.status.padEnd(10)} ${e.model.padEnd(15)} ${(m['HR@10'] ?? 0).toFixed(4)}  ${(m['NDCG@10'] ?? 0).toFixed(4)}   ${(p['HR@10'] ?? 0).toFixed(4)}     ${fmt(e.interactions).padStart(12)}  ${e.trained_at}`,
    );
    const snaps = Object.entries(e.snapshots ?? {})
      .map(([t, s]) => `${t}@${s}`)
      .join(', ');
    if (snaps) lines.push(`    data: ${snaps}`);
    if (e.gate && !e.gate.passed) lines.push(`    gate: ${e.gate.reasons.join('; ')}`);
  }
  lines.push('(* = active)');
  if (experiment)
    lines.push(
      `A/B test ${experiment.name} running: A ${experiment.control}, B ${experiment.treatment} (${pct(experiment.split)} of shoppers); shoplake models ab status`,
    );
  return lines.join('\n');
}

export class InvalidSplitError extends Error {
  constructor(raw: string) {
    super(`--split must be a number between 0 and 1 (the treatment's share), got ${JSON.stringify(raw)}`);
    this.name = 'InvalidSplitError';
  }
}

/** Parses `--split`: the treatment's share of shoppers, strictly between 0 and 1. */
export function parseSplit(raw: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v <= 0 || v >= 1) throw new InvalidSplitError(raw);
  return v;
}

/** `--name` while parsing, before the runtime starts (exit 2). */
function nameArg(value: string): string {
  if (!ID_PATTERN.test(value))
    throw new InvalidArgumentError(
      `experiment name must be 1-64 characters of A-Za-z0-9._:-, got ${JSON.stringify(value.slice(0, 80))}`,
    );
  return value;
}

/** `--split` while parsing, before the runtime starts (exit 2). */
function splitArg(value: string): number {
  try {
    return parseSplit(value);
  } catch (error: unknown) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/** Default experiment name: `ab-<UTC timestamp>`, unique per second. */
export function defaultExperimentName(now: Date): string {
  return `ab-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(2)}%` : '-');
const signedPct = (v: unknown) =>
  typeof v === 'number' ? `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}pp` : '-';

/** The experiment and its per-arm figures, as `shoplake models ab status` prints them. */
export function renderAbStatus(
  pointer: ActivePointer | undefined,
  experiment: AbExperiment | FinishedExperiment | undefined,
  arms: readonly Row[],
): string {
  if (!experiment) return `no A/B test has run (active model: ${pointer?.version ?? 'none'})`;
  const running = pointer?.experiment?.name === experiment.name;
  const lines = [
    `A/B test ${experiment.name}: ${running ? 'running' : 'stopped'} since ${experiment.started_at}`,
    `  A (control)   ${experiment.control}  ${pct(1 - experiment.split)} of shoppers`,
    `  B (treatment) ${experiment.treatment}  ${pct(experiment.split)} of shoppers`,
  ];
  if ('winner' in experiment) lines.push(`  stopped ${experiment.stopped_at}, winner ${experiment.winner}`);
  if (arms.length === 0) {
    lines.push('  no impressions in gold yet (send recommendation_impression events, then run shoplake etl)');
    return lines.join('\n');
  }
  const head = (arm: string, version: string, impressions: string) =>
    `  ${arm.padEnd(4)} ${version.padEnd(29)} ${impressions.padStart(11)}`;
  lines.push(
    `${head('arm', 'version', 'impressions')}  ${'metric'.padEnd(18)} ${'rate'.padStart(7)}  ${'95% interval'.padEnd(20)}  ${'B − A [95% interval]'.padEnd(34)} p-value`,
  );
  for (const a of arms) {
    const metrics: [string, string, string][] = [
      ['CTR', 'ctr', 'clicks'],
      ['add to cart', 'cart_rate', 'carts'],
      ['conversion', 'conversion_rate', 'conversions'],
    ];
    metrics.forEach(([label, m, count], i) => {
      const left =
        i === 0 ? head(String(a.arm), String(a.model_version), fmt(Number(a.impressions))) : head('', '', '');
      const hasDiff = typeof a[`${m}_diff`] === 'number';
      const diff = hasDiff
        ? `${signedPct(a[`${m}_diff`])} [${signedPct(a[`${m}_diff_low`])}, ${signedPct(a[`${m}_diff_high`])}]`
        : '-';
      const p = typeof a[`${m}_p_value`] === 'number' ? Number(a[`${m}_p_value`]).toPrecision(3) : '-';
      lines.push(
        `${left}  ${`${label} (${fmt(Number(a[count]))})`.padEnd(18)} ${pct(a[m]).padStart(7)}  ${`[${pct(a[`${m}_low`])}, ${pct(a[`${m}_high`])}]`.padEnd(20)}  ${diff.padEnd(34)} ${p}`,
      );
    });
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  const models = program
    .command('models')
    .description('list trained model versions (registry) and roll back the active one')
    .option('--json', 'print the registry as JSON on stdout')
    .option('--quiet', 'no progress on stderr')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ json?: boolean; quiet?: boolean; stateDir: string }>();
      const report = reporter({ json: opts.json, quiet: opts.quiet ?? true });
      await withRuntime(
        { stateDir: opts.stateDir, report, firehose: false, consumer: false },
        async ({ runtime }) => {
          const store = localRecommendationStore(runtime);
          const [entries, active] = await Promise.all([store.listRegistry(), store.getActive(true)]);
          report.result({ active: active ?? null, versions: entries }, () =>
            renderRegistry(entries, active?.version, active?.experiment),
          );
        },
      );
    });

  models
    .command('rollback')
    .argument('<version>', 'a published version (see shoplake models)', versionArg)
    .description('point serving at an earlier published model version')
    .option('--json', 'print the new pointer as JSON on stdout')
    .action(async (version: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ json?: boolean; quiet?: boolean; stateDir: string }>();
      const report = reporter({ json: opts.json, quiet: opts.quiet ?? true });
      await withRuntime(
        { stateDir: opts.stateDir, report, firehose: false, consumer: false },
        async ({ runtime }) => {
          const store = localRecommendationStore(runtime);
          const entries = await store.listRegistry();
          if (!entries.some((e) => e.version === version))
            throw new UnknownModelVersionError(version, entries);
          const pointer = await activateVersion({ version }, { store });
          report.result(
            pointer,
            () => `active model is now ${pointer.version} (was ${pointer.previous ?? 'none'})`,
          );
        },
      );
    });

  const ab = models
    .command('ab')
    .description('A/B tests between two published model versions (start, stop, status)');

  ab.command('start')
    .description('serve two published versions side by side, each shopper in a stable arm')
    .requiredOption('--control <version>', 'arm A: the version serving today, as a rule', versionArg)
    .requiredOption('--treatment <version>', 'arm B: the challenger', versionArg)
    .option('--split <share>', "the treatment's share of shoppers (0-1)", splitArg, 0.5)
    .option('--name <name>', 'experiment name (salts the assignment hash) @default ab-<UTC time>', nameArg)
    .option('--json', 'print the new pointer as JSON on stdout')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{
        control: string;
        treatment: string;
        split: number;
        name?: string;
        json?: boolean;
        quiet?: boolean;
        stateDir: string;
      }>();
      const split = opts.split;
      const now = new Date();
      const report = reporter({ json: opts.json, quiet: opts.quiet ?? true });
      await withRuntime(
        { stateDir: opts.stateDir, report, firehose: false, consumer: false },
        async ({ runtime }) => {
          const pointer = await localRecommendationStore(runtime).startExperiment(
            {
              name: opts.name ?? defaultExperimentName(now),
              control: opts.control,
              treatment: opts.treatment,
              split,
            },
            now.toISOString(),
          );
          const e = pointer.experiment;
          report.result(
            pointer,
            () =>
              `A/B test ${e?.name} started: A ${e?.control} (${pct(1 - split)}), B ${e?.treatment} (${pct(split)})`,
          );
        },
      );
    });

  ab.command('stop')
    .description('end the running A/B test: the winner (default: the control) serves everyone')
    .option('--winner <version>', 'the version that stays active @default the control', versionArg)
    .option('--json', 'print the new pointer as JSON on stdout')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{
        winner?: string;
        json?: boolean;
        quiet?: boolean;
        stateDir: string;
      }>();
      const report = reporter({ json: opts.json, quiet: opts.quiet ?? true });
      await withRuntime(
        { stateDir: opts.stateDir, report, firehose: false, consumer: false },
        async ({ runtime }) => {
          const pointer = await localRecommendationStore(runtime).stopExperiment(
            new Date().toISOString(),
            opts.winner,
          );
          report.result(
            pointer,
            () => `A/B test ${pointer.last_experiment?.name} stopped: active model is now ${pointer.version}`,
          );
        },
      );
    });

  ab.command('status')
    .description('the running (or last) A/B test and its per-arm figures from gold')
    .option('--json', 'print the experiment and the per-arm rows as JSON on stdout')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ json?: boolean; quiet?: boolean; stateDir: string }>();
      const report = reporter({ json: opts.json, quiet: opts.quiet ?? true });
      const pointer = await withRuntime(
        { stateDir: opts.stateDir, report, firehose: false, consumer: false },
        async ({ runtime }) => localRecommendationStore(runtime).getActive(true),
      );
      const experiment = pointer?.experiment ?? pointer?.last_experiment;
      let arms: Row[] = [];
      if (experiment) {
        const engine = await openLocalEngine(opts.stateDir);
        try {
          const rows = await engine.query(ANALYTICS_SQL.rec_ab_test ?? '', {
            from: `${OPEN_RANGE.from}-01`,
            to: `${OPEN_RANGE.to}-01`,
          });
          arms = rows.filter((r) => r.experiment === experiment.name);
        } finally {
          await engine.close();
        }
      }
      report.result({ active: pointer ?? null, experiment: experiment ?? null, arms }, () =>
        renderAbStatus(pointer, experiment, arms),
      );
    });
}
