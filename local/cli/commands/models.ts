/**
 * `shoplake models`: the model registry of the local runtime — every trained version with its
 * status, metrics and training-data snapshots — and `shoplake models rollback VERSION`, which
 * points serving back at an earlier published version (the same `activate` the training
 * state machine's last task runs).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { ID_PATTERN } from '../../../lambdas/shared/event-schema.ts';
import type { RegistryEntry } from '../../../lambdas/shared/recommender/store.ts';
import { activateVersion } from '../../../lambdas/training/pipeline.ts';
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
export function renderRegistry(entries: readonly RegistryEntry[], active: string | undefined): string {
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
            renderRegistry(entries, active?.version),
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
}
