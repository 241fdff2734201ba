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
  estimateFirstLoad,
  estimateMonthlyCost,
  type FirstLoadEstimate,
  GLUE_MINIMUM_MINUTES,
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

/** The first load of a source, for people. */
export function renderFirstLoad(f: FirstLoadEstimate): string {
  return [
    `First load of ${fmt(f.rows)} source rows by one Glue extract job (full snapshot, AWS):`,
    `  ${fmt(f.rows)} rows at ${fmt(f.rowsPerSecond)} rows/s + the run's fixed minutes = ${fmt(f.minutes, 1)} min billed on ${f.dpus} DPU = ${fmt(f.dpuHours, 3)} DPU-hours → $${fmt(f.usd, 2)}`,
    `  (${f.price.usd} USD ${f.price.unit}; ${f.price.source}, ${f.price.asOf})`,
  ].join('\n');
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
    `Glue extract jobs: ${a.extractJobs} source(s) (stage sources), ${a.extractJobDpus} DPU each, ${a.extractMinutesPerRun} min per incremental run (billed at least ${GLUE_MINIMUM_MINUTES} min), one run per source and ETL run`,
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
    .option(
      '--extract-sources <n>',
      'Glue extract jobs (batch sources) to price (default: the stage config sources)',
      nonNegative('--extract-sources'),
    )
    .option(
      '--first-load-rows <n>',
      'also price the first (full) load of a source with this many rows',
      nonNegative('--first-load-rows'),
    )
    .option(
      '--extract-rows-per-second <n>',
      'rows/s one extract job moves (the first load pace)',
      nonNegative('--extract-rows-per-second'),
    )
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
        extractSources?: number;
        firstLoadRows?: number;
        extractRowsPerSecond?: number;
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
        if (opts.extractSources !== undefined) overrides.extractJobs = opts.extractSources;
        if (opts.extractRowsPerSecond !== undefined)
          overrides.extractRowsPerSecond = opts.extractRowsPerSecond;
        const estimate = estimateMonthlyCost(opts.eventsPerSecond, overrides);
        const firstLoad =
          opts.firstLoadRows !== undefined ? estimateFirstLoad(opts.firstLoadRows, overrides) : undefined;
        reporter({ json: opts.json }).result(firstLoad ? { ...estimate, firstLoad } : estimate, () =>
          firstLoad ? `${renderCost(estimate)}\n\n${renderFirstLoad(firstLoad)}` : renderCost(estimate),
        );
      },
    );
}
