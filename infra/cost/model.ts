/**
 * Monthly cost of running shoplake at a steady event rate, from AWS list prices
 * (`./prices.ts`) and explicit, overridable assumptions. Pure: no AWS calls, no clock, so the
 * numbers are reproducible and unit-tested. Every line says what it counts, so the estimate
 * can be checked by hand and a wrong assumption is visible.
 */
import { TABLES } from '../../lambdas/shared/catalog/index.ts';
import { CONSUMER_EVENT_SOURCE } from '../definitions/resources.ts';
import { PRICES, type PriceName } from './prices.ts';

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
  /** DynamoDB write units per event: dedup marker, recent items, and its share of the per-batch window-counter updates. */
  readonly writeUnitsPerEvent: number;
  /** DynamoDB read units per recommendation request. */
  readonly readUnitsPerRecommendation: number;
  readonly ingestMsPerRequest: number;
  readonly consumerMsPerInvocation: number;
  readonly consumerMsPerRecord: number;
  readonly recommendationMsPerRequest: number;
  /** Memory of the ingest, consumer and recommendations functions (MB). */
  readonly functionMemoryMb: number;
  /** Shards an on-demand stream starts with; each is polled by the consumer. */
  readonly streamShards: number;
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
  /** Iceberg tables maintained by Glue optimizers. */
  readonly icebergTables: number;
  /** DPU-hours per GB compacted. */
  readonly compactionDpuHoursPerGb: number;
  /** Retention and orphan-file runs per table per month (each billed the 1-minute minimum). */
  readonly maintenanceRunsPerTablePerMonth: number;
  /** JSON log bytes per Lambda invocation and per API request (access log). */
  readonly logBytesPerInvocation: number;
  /** Months logs are kept (stage log retention). */
  readonly logRetentionMonths: number;
  readonly alarms: number;
  readonly dashboards: number;
  readonly customMetrics: number;
  /** X-Ray default sampling: first request each second plus this fraction of the rest. */
  readonly xraySampleRate: number;
  readonly kmsKeys: number;
  readonly kmsRequestsPerMonth: number;
  /** API Gateway response cache (0.5 GB) for the GET routes (the prod stage turns it on). */
  readonly apiCache: boolean;
  readonly quickSightAuthors: number;
  readonly quickSightReaders: number;
  /** Items and bytes held in DynamoDB (features with TTL, recommendation lists). */
  readonly dynamoGb: number;
}

/** Defaults shared by the CLI, `docs/cost.md` and the tests. */
export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  eventBytes: 700,
  eventsPerRequest: 25,
  recommendationReadsPerEvent: 0.05,
  writeUnitsPerEvent: 3,
  readUnitsPerRecommendation: 4,
  ingestMsPerRequest: 80,
  consumerMsPerInvocation: 60,
  consumerMsPerRecord: 1.5,
  recommendationMsPerRequest: 40,
  functionMemoryMb: 1024,
  streamShards: 4,
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
  compactionDpuHoursPerGb: 0.05,
  maintenanceRunsPerTablePerMonth: 60,
  logBytesPerInvocation: 1_000,
  logRetentionMonths: 0.5,
  alarms: 12,
  dashboards: 1,
  customMetrics: 10,
  xraySampleRate: 0.05,
  kmsKeys: 5,
  kmsRequestsPerMonth: 300_000,
  apiCache: false,
  quickSightAuthors: 0,
  quickSightReaders: 0,
  dynamoGb: 2,
};

export const SERVICES = [
  'API Gateway',
  'Lambda',
  'Kinesis Data Streams (on-demand)',
  'DynamoDB (on-demand)',
  'Data Firehose',
  'S3',
  'Athena',
  'Step Functions',
  'Glue table optimizers',
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
  const a: CostAssumptions = { ...DEFAULT_ASSUMPTIONS, ...overrides };
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
  const batchesPerSecond =
    eventsPerSecond === 0
      ? 0
      : Math.max(
          eventsPerSecond / CONSUMER_EVENT_SOURCE.batchSize,
          Math.min(eventsPerSecond, a.streamShards / CONSUMER_EVENT_SOURCE.maxBatchingWindowSeconds),
        );
  const consumerInvocations = batchesPerSecond * SECONDS_PER_MONTH;
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

  // Kinesis on-demand: stream-hours, ingest rounded to 1 KB per record, two readers.
  add('Kinesis Data Streams (on-demand)', 'stream-hours', HOURS_PER_MONTH, 'kinesisOnDemandStreamHour');
  add(
    'Kinesis Data Streams (on-demand)',
    'GB written (1 KB rounding)',
    (events * Math.ceil(a.eventBytes / 1024) * 1024) / GB,
    'kinesisOnDemandIngestPerGb',
  );
  add(
    'Kinesis Data Streams (on-demand)',
    'GB read (consumer Lambda + Firehose)',
    (2 * jsonBytes) / GB,
    'kinesisOnDemandRetrievalPerGb',
  );

  // DynamoDB on-demand.
  add(
    'DynamoDB (on-demand)',
    'write request units (features)',
    events * a.writeUnitsPerEvent,
    'dynamoDbWriteRequestUnitsPerMillion',
    1e6,
  );
  add(
    'DynamoDB (on-demand)',
    'read request units (recommendations)',
    readRequests * a.readUnitsPerRecommendation,
    'dynamoDbReadRequestUnitsPerMillion',
    1e6,
  );
  add('DynamoDB (on-demand)', 'GB-month stored', a.dynamoGb, 'dynamoDbStorageGbMonth');
  add('DynamoDB (on-demand)', 'GB-month point-in-time recovery', a.dynamoGb, 'dynamoDbPitrGbMonth');

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

  // Step Functions (Standard).
  add(
    'Step Functions',
    'state transitions (daily ETL, weekly training)',
    a.etlRunsPerMonth * a.etlTransitionsPerRun + a.trainingRunsPerMonth * a.trainingTransitionsPerRun,
    'stepFunctionsStandardPerThousandTransitions',
    1000,
  );

  // Glue table optimizers.
  add(
    'Glue table optimizers',
    'DPU-hours (compaction of new bronze data + retention/orphan-file runs at the 1-minute minimum)',
    bronzeGbPerMonth * a.lakeAmplification * a.compactionDpuHoursPerGb +
      (a.icebergTables * a.maintenanceRunsPerTablePerMonth) / 60,
    'glueDpuHour',
  );

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
  const tracedPerSecond = (rate: number) =>
    rate <= 0 ? 0 : Math.min(rate, 1) + Math.max(0, rate - 1) * a.xraySampleRate;
  const apiRate = apiRequests / SECONDS_PER_MONTH;
  add(
    'CloudWatch + X-Ray',
    'traces recorded (default sampling)',
    (tracedPerSecond(apiRate) + tracedPerSecond(batchesPerSecond)) * SECONDS_PER_MONTH,
    'xrayTracesPerMillion',
    1e6,
  );

  // KMS.
  add('KMS', 'customer-managed keys', a.kmsKeys, 'kmsKeyMonth');
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
