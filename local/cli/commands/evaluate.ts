/**
 * `shoplake evaluate`: offline evaluation of the recommender models on an interactions file
 * (CSV, `user item` lines, shop-event JSON lines, or the UCI Online Retail layout) or, with no
 * file, on the local lake's silver events. Same models and protocols as the training Lambda.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type InteractionFormat, parseInteractions } from '../../../lambdas/shared/recommender/data.ts';
import {
  EVALUATION_DEFAULTS,
  type EvaluationReport,
  evaluate,
  PROTOCOLS,
  type Protocol,
} from '../../../lambdas/shared/recommender/evaluate.ts';
import type { TieBreak } from '../../../lambdas/shared/recommender/metrics.ts';
import { modelsByName } from '../../../lambdas/shared/recommender/models.ts';
import type { Interaction } from '../../../lambdas/shared/recommender/types.ts';
import { fmt, reporter } from '../output.ts';
import { loadLakeInteractions } from './train.ts';

const FORMATS: readonly InteractionFormat[] = ['csv', 'lines', 'online-retail', 'events'];

export class EvaluateOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluateOptionError';
  }
}

function positiveInt(name: string, raw: string, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new EvaluateOptionError(`--${name} must be an integer between 1 and ${max}, got ${raw}`);
  }
  return n;
}

/** Guesses the format from the header line when `--format` is not given. */
export function detectFormat(text: string): InteractionFormat {
  const first = text.slice(0, text.indexOf('\n') >>> 0).trim();
  if (first.startsWith('{')) return 'events';
  if (/InvoiceNo/.test(first) && /StockCode/.test(first)) return 'online-retail';
  if (/user_id/i.test(first) && /item_id/i.test(first)) return 'csv';
  return 'lines';
}

/** Renders the report as an aligned table, one row per model. */
export function renderReport(report: EvaluationReport): string {
  const metricNames = [...new Set(report.results.flatMap((r) => Object.keys(r.metrics)))];
  const header = ['model', 'users', ...metricNames, 'seconds'];
  const rows = report.results.map((r) => [
    r.model,
    String(r.users),
    ...metricNames.map((m) => (r.metrics[m] ?? 0).toFixed(4)),
    r.seconds.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [
    `protocol ${report.protocol}, k=${report.k}, seed ${report.seed}: ${fmt(report.interactions)} interactions, ${fmt(report.shoppers)} shoppers, ${fmt(report.items)} items`,
    line(header),
    ...rows.map(line),
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('offline evaluation of the recommender models (HR/NDCG/MRR, Recall, coverage)')
    .option('--interactions <file>', 'interactions file; without it, the local lake silver events')
    .option('--format <format>', `input format: ${FORMATS.join('|')} (default: detected from the header)`)
    .option('--protocol <protocol>', PROTOCOLS.join('|'), 'loo-sampled')
    .option('--k <k>', 'cut-off of the ranking metrics', String(EVALUATION_DEFAULTS.k))
    .option('--model <name>', 'model name or all', 'all')
    .option(
      '--seed <seed>',
      'seed of the user sample, negatives and tie-breaks',
      String(EVALUATION_DEFAULTS.seed),
    )
    .option('--ties <mode>', 'tie-break: random (seeded) or pessimistic', EVALUATION_DEFAULTS.tieBreak)
    .option('--no-tuning', 'skip the validation grid search (use each model default parameters)')
    .option('--json', 'print the report as JSON on stdout')
    .option('--quiet', 'no progress on stderr')
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const out = reporter({ json: opts.json === true, quiet: opts.quiet === true });
      const protocol = String(opts.protocol) as Protocol;
      if (!PROTOCOLS.includes(protocol)) {
        throw new EvaluateOptionError(`--protocol must be one of ${PROTOCOLS.join(', ')}, got ${protocol}`);
      }
      const k = positiveInt('k', String(opts.k), 1000);
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed))
        throw new EvaluateOptionError(`--seed must be an integer, got ${opts.seed}`);
      const ties = String(opts.ties) as TieBreak;
      if (ties !== 'random' && ties !== 'pessimistic') {
        throw new EvaluateOptionError(`--ties must be random or pessimistic, got ${ties}`);
      }
      const models = modelsByName(String(opts.model));
      let interactions: Interaction[];
      const file = typeof opts.interactions === 'string' ? opts.interactions : undefined;
      if (file) {
        const text = readFileSync(file, 'utf8');
        const format = (
          typeof opts.format === 'string' ? opts.format : detectFormat(text)
        ) as InteractionFormat;
        if (!FORMATS.includes(format)) {
          throw new EvaluateOptionError(`--format must be one of ${FORMATS.join(', ')}, got ${format}`);
        }
        const parsed = parseInteractions(text, format);
        interactions = parsed.interactions;
        out.progress(
          `read ${fmt(interactions.length)} interactions from ${file} (${format}); rejected ${parsed.rejected.length}${
            parsed.rejected[0]
              ? ` (first: line ${parsed.rejected[0].line}: ${parsed.rejected[0].reason})`
              : ''
          }; skipped ${JSON.stringify(parsed.skipped)}`,
        );
      } else {
        const stateDir = String(cmd.optsWithGlobals().stateDir ?? '.shoplake');
        const lake = await loadLakeInteractions(stateDir);
        interactions = lake.interactions;
        out.progress(`read ${fmt(interactions.length)} interactions from the lake (${lake.source})`);
      }
      const started = performance.now();
      const report = evaluate(interactions, {
        protocol,
        k,
        seed,
        models,
        tieBreak: ties,
        noTuning: opts.tuning === false,
      });
      out.progress(`evaluated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      out.result(report, () => renderReport(report));
    });
}
