/**
 * Monthly cost of running shoplake at a steady event rate, from AWS list prices
 * (`./prices.ts`) and explicit, overridable assumptions. Pure: no AWS calls, no clock, so the
 * numbers are reproducible and unit-tested. Every line says what it counts, so the estimate
 * can be checked by hand and a wrong assumption is visible.
 */
import { TABLES } from '../../lambdas/shared/catalog/index.ts';
import { DEFAULT_DEDUP_TTL_DAYS } from '../../lambdas/shared/features/apply.ts';
import { dev } from '../config/dev.ts';
import {
  DEFAULT_EXTRACT_JOB,
  type ExtractSourceConfig,
  GLUE_WORKER_DPUS,
  type StageConfig,
} from '../config/stage-config.ts';
import { CONSUMER_EVENT_SOURCE } from '../definitions/resources.ts';
import { MEASURED_EVENT_BYTES, MEASURED_ITEM_BYTES, measuredCapacityAt } from './measured.ts';
import { type ListPrice, PRICES, type PriceName } from './prices.ts';

/** Hours and seconds in the average month AWS bills with (730 hours). */
export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const GB = 1024 ** 3;
const TB = 1024 ** 4;

export interface CostAssumptions {
  /** Average size of one event as JSON on the API and the stream (bytes). */
  readonly eventBytes: number;
  /** Events per `POST /events` request (the shop batches). */
  readonly eventsPerRequest: number;
  /** Recommendation `GET` calls per ingested event (storefront reads). */
  readonly recommendationReadsPerEvent: number;
  /**
   * Features-table write units per event (dedup marker, recent-items lists, share of the
   * per-batch window counters). `undefined`: measured, at the estimate's batch size
   * (`measuredCapacityAt` in `measured.ts`).
   */
  readonly writeUnitsPerEvent?: number;
  /** Consumer read units per event (dedup markers, recent lists). `undefined`: measured. */
  readonly consumerReadUnitsPerEvent?: number;
  /** Days dedup markers are kept (their storage dominates the features table). */
  readonly dedupTtlDays: number;
  /** Capacity mode of the features table (stage `featuresTable.billing`). */
  readonly featuresTableBilling: 'on-demand' | 'provisioned';
  /** Provisioned mode: auto scaling keeps consumed/provisioned near this (0-1). */
  readonly provisionedTargetUtilization: number;
  /** Provisioned mode: the scaling floor (units, each of read and write). */
  readonly provisionedMinUnits: number;
  /** DynamoDB read units per recommendation request. */
  readonly readUnitsPerRecommendation: number;
  readonly ingestMsPerRequest: number;
  readonly consumerMsPerInvocation: number;
  readonly consumerMsPerRecord: number;
  readonly recommendationMsPerRequest: number;
  /** Memory of the ingest, consumer and recommendations functions (MB). */
  readonly functionMemoryMb: number;
  /** Capacity mode of the events stream (stage `stream.mode`). */
  readonly streamMode: 'on-demand' | 'provisioned';
  /** Shards of the stream (an on-demand stream starts with 4); each is polled by the consumer. */
  readonly streamShards: number;
  /** Seconds the event-source mapping gathers records per shard (stage `consumer`). */
  readonly consumerBatchingWindowSeconds: number;
  /** Parquet (zstd) bytes per JSON byte in the lake. */
  readonly parquetRatio: number;
  /** Lake bytes (bronze + silver + gold + metadata) per bronze byte. */
  readonly lakeAmplification: number;
  /** Months of data held in the lake when the bill is computed. */
  readonly retainedMonths: number;
  /** Days of bronze each daily ETL run reads (late-arrival look-back). */
  readonly etlLookbackDays: number;
  /** Times the look-back window is scanned per run (silver, quality, gold steps). */
  readonly etlScanPasses: number;
  readonly etlQueriesPerRun: number;
  readonly etlRunsPerMonth: number;
  readonly etlTransitionsPerRun: number;
  /** Days of silver events the weekly training reads. */
  readonly trainingScanDays: number;
  readonly trainingRunsPerMonth: number;
  readonly trainingTransitionsPerRun: number;
  /** GB-seconds of the ETL/training task Lambdas per month. */
  readonly taskGbSecondsPerMonth: number;
  /** Dashboard and ad-hoc Athena queries per month (BI). */
  readonly biQueriesPerMonth: number;
  readonly biBytesPerQuery: number;
  /** Iceberg tables of the catalog (each gets Glue optimizers when they are on). */
  readonly icebergTables: number;
  /** Glue table optimizers maintain the tables; otherwise the ETL runs Athena OPTIMIZE/VACUUM. */
  readonly glueTableOptimizers: boolean;
  /** Tables the ETL maintains with OPTIMIZE + VACUUM when Glue optimizers are off. */
  readonly etlMaintainedTables: number;
  /** DPU-hours per GB compacted. */
  readonly compactionDpuHoursPerGb: number;
  /** Retention and orphan-file runs per table per month (each billed the 1-minute minimum). */
  readonly maintenanceRunsPerTablePerMonth: number;
  /** Glue extract jobs (one per batch source of the stage: OLTP, marketing). */
  readonly extractJobs: number;
  /** DPUs of one extract job (workers x DPUs per worker; stage `sources.*.job`). */
  readonly extractJobDpus: number;
  /**
   * Minutes one incremental extract run is billed (Spark start, JDBC read of the changed rows,
   * Iceberg commits); Glue bills at least 1 minute per run.
   */
  readonly extractMinutesPerRun: number;
  /** Rows per second one extract job moves from PostgreSQL into bronze (the first load's pace). */
  readonly extractRowsPerSecond: number;
  /** JSON log bytes per Lambda invocation and per API request (access log). */
  readonly logBytesPerInvocation: number;
  /** Months logs are kept (stage log retention). */
  readonly logRetentionMonths: number;
  readonly alarms: number;
  readonly dashboards: number;
  readonly customMetrics: number;
  /** X-Ray default rule (the consumer Lambda): first request each second plus this fraction. */
  readonly xraySampleRate: number;
  /** X-Ray sampling rule of the API stage: traces per second always kept (stage `tracing`). */
  readonly xrayApiReservoirPerSecond: number;
  /** X-Ray sampling rule of the API stage: fraction of the remaining requests traced. */
  readonly xrayApiFixedRate: number;
  readonly kmsKeys: number;
  readonly kmsRequestsPerMonth: number;
  /** API Gateway response cache (0.5 GB) for the GET routes (the prod stage turns it on). */
  readonly apiCache: boolean;
  readonly quickSightAuthors: number;
  readonly quickSightReaders: number;
  /** GB held in DynamoDB besides the dedup markers (recent lists, windows, recommendations). */
  readonly dynamoGb: number;
}

/**
 * The assumptions a stage's configuration decides: stream and table capacity modes, the
 * batching window, X-Ray sampling, maintenance, API cache, log retention.
 */
export function stageAssumptions(
  config: StageConfig,
): Pick<
  CostAssumptions,
  | 'streamMode'
  | 'streamShards'
  | 'consumerBatchingWindowSeconds'
  | 'featuresTableBilling'
  | 'provisionedTargetUtilization'
  | 'provisionedMinUnits'
  | 'xrayApiReservoirPerSecond'
  | 'xrayApiFixedRate'
  | 'glueTableOptimizers'
  | 'apiCache'
  | 'logRetentionMonths'
  | 'extractJobs'
  | 'extractJobDpus'
> {
  const table = config.featuresTable;
  const sources = [config.sources.oltp, config.sources.marketing].filter(
    (s): s is ExtractSourceConfig => s !== undefined,
  );
  return {
    streamMode: config.stream.mode,
    streamShards: config.stream.mode === 'provisioned' ? config.stream.shards : ON_DEMAND_INITIAL_SHARDS,
    consumerBatchingWindowSeconds: config.consumer.maxBatchingWindowSeconds,
    featuresTableBilling: table.billing,
    provisionedTargetUtilization:
      table.billing === 'provisioned' ? table.targetUtilizationPercent / 100 : 0.7,
    provisionedMinUnits: table.billing === 'provisioned' ? table.writeUnits.min : 5,
    xrayApiReservoirPerSecond: config.tracing.apiReservoirPerSecond,
    xrayApiFixedRate: config.tracing.apiFixedRate,
    glueTableOptimizers: config.icebergMaintenance.glueTableOptimizers,
    apiCache: config.api.cache !== undefined,
    logRetentionMonths: Math.round((config.logRetentionDays / 30.4) * 100) / 100,
    extractJobs: sources.length,
    // the largest job sets the pace of the bill's assumption (each job is sized on its own)
    extractJobDpus: Math.max(
      extractJobDpus(DEFAULT_EXTRACT_JOB),
      ...sources.map((s) => extractJobDpus(s.job ?? DEFAULT_EXTRACT_JOB)),
    ),
  };
}

/** DPUs of an extract job of this sizing (Glue bills every allocated worker). */
export function extractJobDpus(job: {
  workerType: keyof typeof GLUE_WORKER_DPUS;
  numberOfWorkers: number;
}): number {
  return GLUE_WORKER_DPUS[job.workerType] * job.numberOfWorkers;
}

/** Shards an on-demand stream starts with (4 MB/s write capacity). */
export const ON_DEMAND_INITIAL_SHARDS = 4;

/** Defaults shared by the CLI, `docs/cost.md` and the tests: the dev stage, measured inputs. */
export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  eventBytes: MEASURED_EVENT_BYTES,
  eventsPerRequest: 25,
  recommendationReadsPerEvent: 0.05,
  dedupTtlDays: DEFAULT_DEDUP_TTL_DAYS,
  readUnitsPerRecommendation: 4,
  ingestMsPerRequest: 80,
  consumerMsPerInvocation: 60,
  consumerMsPerRecord: 1.5,
  recommendationMsPerRequest: 40,
  functionMemoryMb: 1024,
  parquetRatio: 0.15,
  lakeAmplification: 2.5,
  retainedMonths: 12,
  etlLookbackDays: 3,
  etlScanPasses: 4,
  etlQueriesPerRun: 26,
  etlRunsPerMonth: 30,
  etlTransitionsPerRun: 80,
  trainingScanDays: 90,
  trainingRunsPerMonth: 4.35,
  trainingTransitionsPerRun: 20,
  taskGbSecondsPerMonth: 2_000,
  biQueriesPerMonth: 300,
  biBytesPerQuery: 50 * 1024 ** 2,
  icebergTables: TABLES.length,
  etlMaintainedTables: TABLES.filter((t) => ['bronze', 'silver', 'gold'].includes(t.namespace)).length,
  compactionDpuHoursPerGb: 0.05,
  maintenanceRunsPerTablePerMonth: 60,
  logBytesPerInvocation: 1_000,
  alarms: 14,
  dashboards: 1,
  customMetrics: 10,
  xraySampleRate: 0.05,
  kmsKeys: 5,
  kmsRequestsPerMonth: 300_000,
  extractMinutesPerRun: 2,
  extractRowsPerSecond: 20_000,
  quickSightAuthors: 0,
  quickSightReaders: 0,
  dynamoGb: 0.5,
  ...stageAssumptions(dev),
};

/** The default assumptions with a stage's own settings (`shoplake cost --stage prod`). */
export function assumptionsForStage(config: StageConfig): CostAssumptions {
  return { ...DEFAULT_ASSUMPTIONS, ...stageAssumptions(config) };
}

export const SERVICES = [
  'API Gateway',
  'Lambda',
  'Kinesis Data Streams',
  'DynamoDB',
  'Data Firehose',
  'S3',
  'Athena',
  'Step Functions',
  'Glue table optimizers',
  'Glue extract jobs',
  'CloudWatch + X-Ray',
  'KMS',
  'QuickSight',
] as const;
export type Service = (typeof SERVICES)[number];

export interface CostLine {
  readonly service: Service;
  readonly item: string;
  readonly quantity: number;
  readonly price: PriceName;
  /** Units the price is quoted per (1, 1,000, 1 million…). */
  readonly perUnits: number;
  readonly usd: number;
}

export interface CostEstimate {
  readonly eventsPerSecond: number;
  readonly eventsPerMonth: number;
  readonly totalUsd: number;
  readonly byService: Readonly<Record<Service, number>>;
  readonly lines: readonly CostLine[];
  readonly assumptions: CostAssumptions;
  readonly prices: typeof PRICES;
}

/** Glue bills a Spark job run for at least one minute (Glue 2.0 and later; AWS Glue pricing). */
export const GLUE_MINIMUM_MINUTES = 1;

/** What the first (full-snapshot) load of a source costs on AWS. */
export interface FirstLoadEstimate {
  readonly rows: number;
  readonly dpus: number;
  readonly rowsPerSecond: number;
  /** Billed minutes: rows / rate plus the run's fixed part, at least the 1-minute minimum. */
  readonly minutes: number;
  readonly dpuHours: number;
  readonly usd: number;
  readonly price: ListPrice;
}

/**
 * The first load of `rows` source rows by one extract job: a full snapshot at
 * `extractRowsPerSecond`, plus the incremental run's fixed minutes (Spark start, commits),
 * billed per second with Glue's 1-minute minimum at `extractJobDpus`.
 */
export function estimateFirstLoad(rows: number, overrides: Partial<CostAssumptions> = {}): FirstLoadEstimate {
  const a: CostAssumptions = { ...DEFAULT_ASSUMPTIONS, ...overrides };
  if (!Number.isFinite(rows) || rows < 0)
    throw new InvalidCostInputError(`rows must be a finite number >= 0, got ${rows}`);
  if (!(a.extractRowsPerSecond > 0))
    throw new InvalidCostInputError('assumption extractRowsPerSecond must be > 0');
  const minutes = Math.max(GLUE_MINIMUM_MINUTES, a.extractMinutesPerRun + rows / a.extractRowsPerSecond / 60);
  const dpuHours = (a.extractJobDpus * minutes) / 60;
  const price = PRICES.glueSparkJobDpuHour;
  return {
    rows,
    dpus: a.extractJobDpus,
    rowsPerSecond: a.extractRowsPerSecond,
    minutes,
    dpuHours,
    usd: dpuHours * price.usd,
    price,
  };
}

/** Thrown for an event rate or assumption the model cannot price. */
export class InvalidCostInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCostInputError';
  }
}

/**
 * Estimates the monthly bill at `eventsPerSecond` sustained for a whole month.
 * Throws `InvalidCostInputError` for a negative or non-finite rate or assumption.
 */
export function estimateMonthlyCost(
  eventsPerSecond: number,
  overrides: Partial<CostAssumptions> = {},
): CostEstimate {
  if (!Number.isFinite(eventsPerSecond) || eventsPerSecond < 0) {
    throw new InvalidCostInputError(`events per second must be a finite number >= 0, got ${eventsPerSecond}`);
  }
  let a: CostAssumptions = { ...DEFAULT_ASSUMPTIONS, ...overrides };
  for (const [key, value] of Object.entries(a)) {
    if (typeof value === 'number' && (!Number.isFinite(value) || value < 0)) {
      throw new InvalidCostInputError(`assumption ${key} must be a finite number >= 0, got ${value}`);
    }
  }
  if (a.eventsPerRequest < 1) throw new InvalidCostInputError('assumption eventsPerRequest must be >= 1');

  const lines: CostLine[] = [];
  const add = (service: Service, item: string, quantity: number, price: PriceName, perUnits = 1) => {
    lines.push({ service, item, quantity, price, perUnits, usd: (quantity / perUnits) * PRICES[price].usd });
  };

  const events = eventsPerSecond * SECONDS_PER_MONTH;
  const ingestRequests = events / a.eventsPerRequest;
  const readRequests = events * a.recommendationReadsPerEvent;
  const apiRequests = ingestRequests + readRequests;
  const jsonBytes = events * a.eventBytes;

  // API Gateway
  add(
    'API Gateway',
    'REST requests (POST /events batches + GET recommendations)',
    apiRequests,
    'apiGatewayRestRequestsPerMillion',
    1e6,
  );
  if (a.apiCache)
    add('API Gateway', '0.5 GB response cache, hours', HOURS_PER_MONTH, 'apiGatewayCache05GbPerHour');

  // Lambda: ingest per request, consumer per polled batch, recommendations per read.
  const gbPerFn = a.functionMemoryMb / 1024;
  // Each shard is polled about once per second and invoked at most once per batching window.
  const batchesPerSecond =
    eventsPerSecond === 0
      ? 0
      : Math.max(
          eventsPerSecond / CONSUMER_EVENT_SOURCE.batchSize,
          Math.min(eventsPerSecond, a.streamShards / Math.max(1, a.consumerBatchingWindowSeconds)),
        );
  const consumerInvocations = batchesPerSecond * SECONDS_PER_MONTH;
  const measured = measuredCapacityAt(
    batchesPerSecond > 0 ? eventsPerSecond / batchesPerSecond : 1,
    eventsPerSecond,
  );
  a = {
    ...a,
    writeUnitsPerEvent: a.writeUnitsPerEvent ?? measured.writeUnitsPerEvent,
    consumerReadUnitsPerEvent: a.consumerReadUnitsPerEvent ?? measured.readUnitsPerEvent,
  };
  const consumerSeconds =
    (consumerInvocations * a.consumerMsPerInvocation + events * a.consumerMsPerRecord) / 1000;
  const invocations = ingestRequests + consumerInvocations + readRequests;
  add(
    'Lambda',
    'requests (ingest, consumer batches, recommendations)',
    invocations,
    'lambdaRequestsPerMillion',
    1e6,
  );
  add(
    'Lambda',
    'GB-seconds (ingest, consumer, recommendations, ETL/training tasks)',
    ((ingestRequests * a.ingestMsPerRequest) / 1000) * gbPerFn +
      consumerSeconds * gbPerFn +
      ((readRequests * a.recommendationMsPerRequest) / 1000) * gbPerFn +
      a.taskGbSecondsPerMonth,
    'lambdaArmGbSecond',
  );

  if (a.streamMode === 'provisioned') {
    // Provisioned: shard-hours and 25 KB PUT payload units; reads by the consumer and Firehose
    // (shared throughput) are included.
    add(
      'Kinesis Data Streams',
      'provisioned shard-hours',
      a.streamShards * HOURS_PER_MONTH,
      'kinesisShardHour',
    );
    add(
      'Kinesis Data Streams',
      'PUT payload units (25 KB each)',
      events * Math.ceil(a.eventBytes / (25 * 1024)),
      'kinesisPutPayloadUnitsPerMillion',
      1e6,
    );
  } else {
    // On-demand: stream-hours, ingest rounded to 1 KB per record, two readers.
    add('Kinesis Data Streams', 'on-demand stream-hours', HOURS_PER_MONTH, 'kinesisOnDemandStreamHour');
    add(
      'Kinesis Data Streams',
      'GB written (1 KB rounding)',
      (events * Math.ceil(a.eventBytes / 1024) * 1024) / GB,
      'kinesisOnDemandIngestPerGb',
    );
    add(
      'Kinesis Data Streams',
      'GB read (consumer Lambda + Firehose)',
      (2 * jsonBytes) / GB,
      'kinesisOnDemandRetrievalPerGb',
    );
  }

  // DynamoDB: the consumer's writes and reads on the features table (measured at this batch
  // size unless overridden), the recommendation reads (on-demand recommendations table).
  const featureWrites = events * (a.writeUnitsPerEvent ?? 0);
  const featureReads = events * (a.consumerReadUnitsPerEvent ?? 0);
  if (a.featuresTableBilling === 'provisioned') {
    const provisioned = (units: number) =>
      Math.max(
        a.provisionedMinUnits,
        units / SECONDS_PER_MONTH / Math.max(0.01, a.provisionedTargetUtilization),
      );
    add(
      'DynamoDB',
      `features table: provisioned write units (auto scaling at ${Math.round(a.provisionedTargetUtilization * 100)}%), unit-hours`,
      provisioned(featureWrites) * HOURS_PER_MONTH,
      'dynamoDbProvisionedWcuHour',
    );
    add(
      'DynamoDB',
      'features table: provisioned read units, unit-hours',
      provisioned(featureReads) * HOURS_PER_MONTH,
      'dynamoDbProvisionedRcuHour',
    );
    // Target tracking creates two CloudWatch alarms per scaled dimension.
    add('CloudWatch + X-Ray', 'auto scaling alarms (features table)', 4, 'cloudWatchAlarmMonth');
  } else {
    add(
      'DynamoDB',
      'features table: write request units',
      featureWrites,
      'dynamoDbWriteRequestUnitsPerMillion',
      1e6,
    );
    add(
      'DynamoDB',
      'features table: read request units (consumer)',
      featureReads,
      'dynamoDbReadRequestUnitsPerMillion',
      1e6,
    );
  }
  add(
    'DynamoDB',
    'read request units (recommendations)',
    readRequests * a.readUnitsPerRecommendation,
    'dynamoDbReadRequestUnitsPerMillion',
    1e6,
  );
  // Dedup markers live `dedupTtlDays`: at a steady rate that many days of events are stored.
  const dynamoGb =
    a.dynamoGb + (eventsPerSecond * 86_400 * a.dedupTtlDays * MEASURED_ITEM_BYTES.dedupMarker) / GB;
  add(
    'DynamoDB',
    'GB-month stored (dedup markers + lists, windows, recommendations)',
    dynamoGb,
    'dynamoDbStorageGbMonth',
  );
  add('DynamoDB', 'GB-month point-in-time recovery', dynamoGb, 'dynamoDbPitrGbMonth');

  // Firehose into the bronze Iceberg table.
  add('Data Firehose', 'GB delivered to Iceberg', jsonBytes / GB, 'firehoseIcebergPerGb');

  // S3: the lake after `retainedMonths` months, plus request charges.
  const bronzeGbPerMonth = (jsonBytes * a.parquetRatio) / GB;
  add(
    'S3',
    `GB-month stored (lake after ${a.retainedMonths} months)`,
    bronzeGbPerMonth * a.lakeAmplification * a.retainedMonths,
    's3StandardGbMonth',
  );
  const flushesPerMonth = events > 0 ? SECONDS_PER_MONTH / 300 : 0;
  const etlObjectsWritten = a.etlRunsPerMonth * a.etlQueriesPerRun * 4;
  add(
    'S3',
    'PUT/LIST requests (Firehose commits, ETL writes, quarantine)',
    flushesPerMonth * 4 + etlObjectsWritten * 2,
    's3PutPerThousand',
    1000,
  );
  add(
    'S3',
    'GET requests (Athena reads, optimizers)',
    flushesPerMonth * 20 + a.etlRunsPerMonth * a.etlQueriesPerRun * 200,
    's3GetPerThousand',
    1000,
  );

  // Athena: bytes scanned with the 10 MB minimum per query.
  const minQuery = 10 * 1024 ** 2;
  const dailyBronzeBytes = (jsonBytes * a.parquetRatio) / 30.4;
  const etlBytesPerQuery = (dailyBronzeBytes * a.etlLookbackDays * a.etlScanPasses) / a.etlQueriesPerRun;
  const etlScanned = a.etlRunsPerMonth * a.etlQueriesPerRun * Math.max(minQuery, etlBytesPerQuery);
  const trainingScanned =
    a.trainingRunsPerMonth * 3 * Math.max(minQuery, (dailyBronzeBytes * a.trainingScanDays) / 3);
  const biScanned = a.biQueriesPerMonth * Math.max(minQuery, a.biBytesPerQuery);
  add(
    'Athena',
    'TB scanned (ETL, training, BI)',
    (etlScanned + trainingScanned + biScanned) / TB,
    'athenaPerTbScanned',
  );
  if (!a.glueTableOptimizers) {
    // OPTIMIZE (rewrites the table's new small files) + VACUUM (metadata and deletes: the
    // 10 MB minimum) per maintained table and ETL run.
    const newBytesPerRunPerTable =
      (dailyBronzeBytes * a.lakeAmplification) / Math.max(1, a.etlMaintainedTables);
    add(
      'Athena',
      'TB scanned by ETL maintenance (OPTIMIZE + VACUUM per table and run, 10 MB minimum)',
      (a.etlRunsPerMonth * a.etlMaintainedTables * (Math.max(minQuery, newBytesPerRunPerTable) + minQuery)) /
        TB,
      'athenaPerTbScanned',
    );
  }

  // Step Functions (Standard).
  add(
    'Step Functions',
    'state transitions (daily ETL, weekly training)',
    a.etlRunsPerMonth * (a.etlTransitionsPerRun + (a.glueTableOptimizers ? 0 : 3 * a.etlMaintainedTables)) +
      a.trainingRunsPerMonth * a.trainingTransitionsPerRun,
    'stepFunctionsStandardPerThousandTransitions',
    1000,
  );

  // Glue table optimizers (when the stage uses them instead of the ETL's OPTIMIZE/VACUUM).
  if (a.glueTableOptimizers) {
    add(
      'Glue table optimizers',
      'DPU-hours (compaction of new bronze data + retention/orphan-file runs at the 1-minute minimum)',
      bronzeGbPerMonth * a.lakeAmplification * a.compactionDpuHoursPerGb +
        (a.icebergTables * a.maintenanceRunsPerTablePerMonth) / 60,
      'glueDpuHour',
    );
  }

  // Glue extract jobs: one incremental run per source and ETL run, at least the 1-minute minimum.
  if (a.extractJobs > 0) {
    add(
      'Glue extract jobs',
      `DPU-hours (${a.extractJobs} source job(s) x ${a.etlRunsPerMonth} runs x ${a.extractJobDpus} DPU x ${Math.max(GLUE_MINIMUM_MINUTES, a.extractMinutesPerRun)} min)`,
      (a.extractJobs *
        a.etlRunsPerMonth *
        a.extractJobDpus *
        Math.max(GLUE_MINIMUM_MINUTES, a.extractMinutesPerRun)) /
        60,
      'glueSparkJobDpuHour',
    );
  }

  // CloudWatch and X-Ray.
  const logGb = ((invocations + apiRequests) * a.logBytesPerInvocation) / GB;
  add(
    'CloudWatch + X-Ray',
    'GB of logs ingested (Lambda JSON logs, API access logs)',
    logGb,
    'cloudWatchLogsIngestPerGb',
  );
  add(
    'CloudWatch + X-Ray',
    'GB-month of logs kept',
    logGb * a.logRetentionMonths,
    'cloudWatchLogsStorageGbMonth',
  );
  add('CloudWatch + X-Ray', 'alarms', a.alarms, 'cloudWatchAlarmMonth');
  add('CloudWatch + X-Ray', 'dashboards', a.dashboards, 'cloudWatchDashboardMonth');
  add('CloudWatch + X-Ray', 'Powertools custom metrics', a.customMetrics, 'cloudWatchCustomMetricMonth');
  const tracedPerSecond = (rate: number, reservoir: number, fixedRate: number) =>
    rate <= 0 ? 0 : Math.min(rate, reservoir) + Math.max(0, rate - reservoir) * fixedRate;
  const apiRate = apiRequests / SECONDS_PER_MONTH;
  add(
    'CloudWatch + X-Ray',
    `traces recorded (API rule ${a.xrayApiReservoirPerSecond}/s + ${a.xrayApiFixedRate * 100}%; consumer default 1/s + ${a.xraySampleRate * 100}%)`,
    (tracedPerSecond(apiRate, a.xrayApiReservoirPerSecond, a.xrayApiFixedRate) +
      tracedPerSecond(batchesPerSecond, 1, a.xraySampleRate)) *
      SECONDS_PER_MONTH,
    'xrayTracesPerMillion',
    1e6,
  );

  // KMS.
  add('KMS', 'customer-managed keys', a.kmsKeys, 'kmsKeyMonth');
  // The extract jobs' key (their logs and bookmarks: infra/constructs/extract-jobs.ts).
  if (a.extractJobs > 0) add('KMS', 'customer-managed key of the Glue extract jobs', 1, 'kmsKeyMonth');
  add(
    'KMS',
    'requests (bucket keys and cached data keys keep this low)',
    a.kmsRequestsPerMonth,
    'kmsRequestsPerTenThousand',
    10_000,
  );

  // QuickSight (optional).
  if (a.quickSightAuthors > 0) add('QuickSight', 'authors', a.quickSightAuthors, 'quickSightAuthorMonth');
  if (a.quickSightReaders > 0) add('QuickSight', 'readers', a.quickSightReaders, 'quickSightReaderMonth');

  const byService = Object.fromEntries(SERVICES.map((s) => [s, 0])) as Record<Service, number>;
  for (const line of lines) byService[line.service] += line.usd;
  const totalUsd = lines.reduce((sum, l) => sum + l.usd, 0);
  return {
    eventsPerSecond,
    eventsPerMonth: events,
    totalUsd,
    byService,
    lines,
    assumptions: a,
    prices: PRICES,
  };
}
