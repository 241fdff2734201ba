/**
 * `shoplake models`: the model registry of the local runtime — every trained version with its
 * status, metrics and training-data snapshots — and `shoplake models rollback VERSION`, which
 * points serving back at an earlier published version (the same `activate` the training
 * state machine's last task runs).
 */
import type { Command } from 'commander';
import { ID_PATTERN } from '../../../lambdas/shared/event-schema.ts';
import type { RegistryEntry } from '../../../lambdas/shared/recommender/store.ts';
import { activateVersion } from '../../../lambdas/training/pipeline.ts';
import { withRuntime } from '../../runtime/session.ts';
import { fmt, reporter } from '../output.ts';
import { localRecommendationStore } from './train.ts';

export class InvalidVersionError extends Error {
  constructor(version: string) {
    super(
      `model version must be 1-64 characters of A-Za-z0-9._:-, got ${JSON.stringify(version.slice(0, 80))}`,
    );
    this.name = 'InvalidVersionError';
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
    .argument('<version>', 'a published version (see shoplake models)')
    .description('point serving at an earlier published model version')
    .option('--json', 'print the new pointer as JSON on stdout')
    .action(async (version: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ json?: boolean; quiet?: boolean; stateDir: string }>();
      if (!ID_PATTERN.test(version)) throw new InvalidVersionError(version);
      const report = reporter({ json: opts.json, quiet: opts.quiet ?? true });
      await withRuntime(
        { stateDir: opts.stateDir, report, firehose: false, consumer: false },
        async ({ runtime }) => {
          const pointer = await activateVersion({ version }, { store: localRecommendationStore(runtime) });
          report.result(
            pointer,
            () => `active model is now ${pointer.version} (was ${pointer.previous ?? 'none'})`,
          );
        },
      );
    });
}
