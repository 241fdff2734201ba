/**
 * `shoplake cost --events-per-second N [--json]`: the monthly AWS bill of a deployed shoplake at
 * a sustained event rate, by service, from list prices (us-east-1) and printed assumptions.
 * The model is `infra/cost/model.ts`; the prices and their sources are `infra/cost/prices.ts`.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { STAGES } from '../../../infra/config/index.ts';
import {
  assumptionsForStage,
  type CostAssumptions,
  type CostEstimate,
  estimateMonthlyCost,
  SERVICES,
} from '../../../infra/cost/model.ts';
import { fmt, reporter } from '../output.ts';

function nonNegative(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`${name} must be a number >= 0`);
    }
    return n;
  };
}

/** Human rendering: services, total, assumptions, then every line with its price source. */
export function renderCost(estimate: CostEstimate): string {
  const usd = (n: number) => `$${fmt(n, 2)}`;
  const width = Math.max(...SERVICES.map((s) => s.length));
  const rows = SERVICES.filter((s) => estimate.byService[s] > 0 || s !== 'QuickSight').map(
    (s) => `  ${s.padEnd(width)}  ${usd(estimate.byService[s]).padStart(12)}`,
  );
  const a = estimate.assumptions;
  const assumptions = [
    `${fmt(estimate.eventsPerSecond, 2)} events/s sustained = ${fmt(estimate.eventsPerMonth)} events/month (730 h)`,
    `${a.eventBytes} B per event, ${a.eventsPerRequest} events per POST /events, ${a.recommendationReadsPerEvent} recommendation reads per event`,
    `stream: ${a.streamMode === 'provisioned' ? `${a.streamShards} provisioned shard(s)` : 'on-demand'}; consumer batching window ${a.consumerBatchingWindowSeconds} s`,
    `features table ${a.featuresTableBilling}${a.featuresTableBilling === 'provisioned' ? ` (auto scaling at ${Math.round(a.provisionedTargetUtilization * 100)}%, floor ${a.provisionedMinUnits} units)` : ''}: ${fmt(a.writeUnitsPerEvent ?? 0, 2)} write and ${fmt(a.consumerReadUnitsPerEvent ?? 0, 2)} read units per event (measured, infra/cost/measured.ts); ${a.readUnitsPerRecommendation} read units per recommendation`,
    `X-Ray: API rule ${a.xrayApiReservoirPerSecond}/s + ${a.xrayApiFixedRate * 100}%, consumer Lambda default 1/s + ${a.xraySampleRate * 100}%`,
    `Lambda Arm ${a.functionMemoryMb} MB: ingest ${a.ingestMsPerRequest} ms/request, consumer ${a.consumerMsPerInvocation} ms/batch + ${a.consumerMsPerRecord} ms/record, recommendations ${a.recommendationMsPerRequest} ms`,
    `lake: Parquet ${a.parquetRatio} B per JSON B, ${a.lakeAmplification}x for silver/gold/metadata, ${a.retainedMonths} months retained`,
    `ETL daily over ${a.etlLookbackDays} days of bronze (${a.etlScanPasses} passes, ${a.etlQueriesPerRun} queries); training weekly over ${a.trainingScanDays} days; ${a.biQueriesPerMonth} BI queries`,
    `${a.glueTableOptimizers ? `${a.icebergTables} Iceberg tables with Glue optimizers` : `${a.etlMaintainedTables} tables maintained by the ETL (Athena OPTIMIZE/VACUUM)`}; ${a.alarms} alarms, ${a.dashboards} dashboard, ${a.customMetrics} custom metrics; ${a.kmsKeys} KMS keys`,
    `API cache: ${a.apiCache ? 'on (0.5 GB)' : 'off'}; QuickSight: ${a.quickSightAuthors} authors, ${a.quickSightReaders} readers`,
    'list prices, us-east-1, no free tier, no savings plans; data transfer out of AWS not included',
  ];
  const lines = estimate.lines.map(
    (l) =>
      `  ${l.service}: ${l.item}: ${fmt(l.quantity, 2)} → ${usd(l.usd)}  (${estimate.prices[l.price].usd} USD ${estimate.prices[l.price].unit}; ${estimate.prices[l.price].source}, ${estimate.prices[l.price].asOf})`,
  );
  return [
    `Monthly cost at ${fmt(estimate.eventsPerSecond, 2)} events/s (USD, list prices us-east-1)`,
    ...rows,
    `  ${'Total'.padEnd(width)}  ${usd(estimate.totalUsd).padStart(12)}`,
    '',
    'Assumptions:',
    ...assumptions.map((x) => `  - ${x}`),
    '',
    'Line items:',
    ...lines,
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('cost')
    .description('estimate the monthly AWS cost of a deployment at a sustained event rate')
    .requiredOption('--events-per-second <n>', 'sustained ingest rate', nonNegative('--events-per-second'))
    .addOption(
      new Option('--stage <name>', 'stage whose cost options apply (infra/config/<stage>.ts)')
        .choices(Object.keys(STAGES))
        .default('dev'),
    )
    .option('--event-bytes <n>', 'average event size in bytes', nonNegative('--event-bytes'))
    .option('--events-per-request <n>', 'events per POST /events batch', nonNegative('--events-per-request'))
    .option(
      '--reads-per-event <n>',
      'recommendation GETs per ingested event',
      nonNegative('--reads-per-event'),
    )
    .option('--retained-months <n>', 'months of data held in the lake', nonNegative('--retained-months'))
    .option('--api-cache', 'include the 0.5 GB API Gateway cache (prod stage)')
    .option('--quicksight-authors <n>', 'QuickSight authors', nonNegative('--quicksight-authors'))
    .option('--quicksight-readers <n>', 'QuickSight readers', nonNegative('--quicksight-readers'))
    .option('--json', 'print the estimate as JSON on stdout')
    .action(
      (opts: {
        eventsPerSecond: number;
        stage: string;
        eventBytes?: number;
        eventsPerRequest?: number;
        readsPerEvent?: number;
        retainedMonths?: number;
        apiCache?: boolean;
        quicksightAuthors?: number;
        quicksightReaders?: number;
        json?: boolean;
      }) => {
        const stage = STAGES[opts.stage] ?? STAGES.dev;
        if (!stage) throw new InvalidArgumentError('no stage configuration');
        const overrides: Partial<{ -readonly [K in keyof CostAssumptions]: CostAssumptions[K] }> = {
          ...assumptionsForStage(stage),
        };
        if (opts.eventBytes !== undefined) overrides.eventBytes = opts.eventBytes;
        if (opts.eventsPerRequest !== undefined) overrides.eventsPerRequest = opts.eventsPerRequest;
        if (opts.readsPerEvent !== undefined) overrides.recommendationReadsPerEvent = opts.readsPerEvent;
        if (opts.retainedMonths !== undefined) overrides.retainedMonths = opts.retainedMonths;
        if (opts.apiCache) overrides.apiCache = true;
        if (opts.quicksightAuthors !== undefined) overrides.quickSightAuthors = opts.quicksightAuthors;
        if (opts.quicksightReaders !== undefined) overrides.quickSightReaders = opts.quicksightReaders;
        const estimate = estimateMonthlyCost(opts.eventsPerSecond, overrides);
        reporter({ json: opts.json }).result(estimate, () => renderCost(estimate));
      },
    );
}
