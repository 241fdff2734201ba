/**
 * AWS list prices (us-east-1, USD) used by `shoplake cost`. Each price is a named constant with
 * the page it comes from and the date it was taken, so a reader can re-check it and a change is
 * one line. Free tiers, savings plans and volume tiers beyond the first are ignored (see
 * `docs/cost.md`): this is a list-price ceiling for a small-to-medium shop, not an invoice.
 */

export interface ListPrice {
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
  /** When the value was read from `source` (YYYY-MM). */
  readonly asOf: string;
}

const AS_OF = '2025-06';

export const PRICES = {
  apiGatewayRestRequestsPerMillion: {
    usd: 3.5,
    unit: 'per million REST API calls (first 333 million/month)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    asOf: AS_OF,
  },
  apiGatewayCache05GbPerHour: {
    usd: 0.02,
    unit: 'per hour, 0.5 GB REST API cache',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    asOf: AS_OF,
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: 'per GB-second, Arm (first 7.5 billion GB-s/month)',
    source: 'https://aws.amazon.com/lambda/pricing/',
    asOf: AS_OF,
  },
  lambdaRequestsPerMillion: {
    usd: 0.2,
    unit: 'per million Lambda requests',
    source: 'https://aws.amazon.com/lambda/pricing/',
    asOf: AS_OF,
  },
  kinesisOnDemandStreamHour: {
    usd: 0.04,
    unit: 'per on-demand stream-hour',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: AS_OF,
  },
  kinesisOnDemandIngestPerGb: {
    usd: 0.08,
    unit: 'per GB written (records rounded up to 1 KB)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: AS_OF,
  },
  kinesisOnDemandRetrievalPerGb: {
    usd: 0.04,
    unit: 'per GB read (shared-throughput consumers)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: AS_OF,
  },
  kinesisShardHour: {
    usd: 0.015,
    unit: 'per provisioned shard-hour (1 MB/s or 1,000 records/s in, 2 MB/s out)',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: AS_OF,
  },
  kinesisPutPayloadUnitsPerMillion: {
    usd: 0.014,
    unit: 'per million PUT payload units (25 KB each), provisioned mode; retrieval included',
    source: 'https://aws.amazon.com/kinesis/data-streams/pricing/',
    asOf: AS_OF,
  },
  firehoseIcebergPerGb: {
    usd: 0.075,
    unit: 'per GB delivered to Apache Iceberg tables from Kinesis Data Streams (no 5 KB rounding)',
    source: 'https://aws.amazon.com/firehose/pricing/',
    asOf: AS_OF,
  },
  dynamoDbWriteRequestUnitsPerMillion: {
    usd: 0.625,
    unit: 'per million on-demand write request units',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    asOf: AS_OF,
  },
  dynamoDbReadRequestUnitsPerMillion: {
    usd: 0.125,
    unit: 'per million on-demand read request units',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    asOf: AS_OF,
  },
  dynamoDbProvisionedWcuHour: {
    usd: 0.00065,
    unit: 'per provisioned write capacity unit-hour',
    source: 'https://aws.amazon.com/dynamodb/pricing/provisioned/',
    asOf: AS_OF,
  },
  dynamoDbProvisionedRcuHour: {
    usd: 0.00013,
    unit: 'per provisioned read capacity unit-hour',
    source: 'https://aws.amazon.com/dynamodb/pricing/provisioned/',
    asOf: AS_OF,
  },
  dynamoDbStorageGbMonth: {
    usd: 0.25,
    unit: 'per GB-month table storage (Standard class)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    asOf: AS_OF,
  },
  dynamoDbPitrGbMonth: {
    usd: 0.2,
    unit: 'per GB-month continuous backup (point-in-time recovery)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    asOf: AS_OF,
  },
  s3StandardGbMonth: {
    usd: 0.023,
    unit: 'per GB-month S3 Standard (first 50 TB)',
    source: 'https://aws.amazon.com/s3/pricing/',
    asOf: AS_OF,
  },
  s3PutPerThousand: {
    usd: 0.005,
    unit: 'per 1,000 PUT/COPY/POST/LIST requests',
    source: 'https://aws.amazon.com/s3/pricing/',
    asOf: AS_OF,
  },
  s3GetPerThousand: {
    usd: 0.0004,
    unit: 'per 1,000 GET and other requests',
    source: 'https://aws.amazon.com/s3/pricing/',
    asOf: AS_OF,
  },
  athenaPerTbScanned: {
    usd: 5,
    unit: 'per TB scanned (10 MB minimum per query)',
    source: 'https://aws.amazon.com/athena/pricing/',
    asOf: AS_OF,
  },
  stepFunctionsStandardPerThousandTransitions: {
    usd: 0.025,
    unit: 'per 1,000 Standard workflow state transitions',
    source: 'https://aws.amazon.com/step-functions/pricing/',
    asOf: AS_OF,
  },
  glueDpuHour: {
    usd: 0.44,
    unit: 'per DPU-hour (Data Catalog table optimizers, billed per second, 1-minute minimum)',
    source: 'https://aws.amazon.com/glue/pricing/',
    asOf: AS_OF,
  },
  glueSparkJobDpuHour: {
    usd: 0.44,
    unit: 'per DPU-hour, Apache Spark ETL jobs (Glue 2.0 and later, so the Glue 5.0 extract jobs): billed per second, 1-minute minimum per run; G.1X = 1 DPU per worker',
    source: 'https://aws.amazon.com/glue/pricing/',
    asOf: '2026-12',
  },
  cloudWatchLogsIngestPerGb: {
    usd: 0.5,
    unit: 'per GB of logs ingested (Standard class)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    asOf: AS_OF,
  },
  cloudWatchLogsStorageGbMonth: {
    usd: 0.03,
    unit: 'per GB-month of archived logs',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    asOf: AS_OF,
  },
  cloudWatchAlarmMonth: {
    usd: 0.1,
    unit: 'per standard-resolution alarm-month',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    asOf: AS_OF,
  },
  cloudWatchDashboardMonth: {
    usd: 3,
    unit: 'per dashboard-month (beyond the first three)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    asOf: AS_OF,
  },
  cloudWatchCustomMetricMonth: {
    usd: 0.3,
    unit: 'per custom metric-month (first 10,000)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    asOf: AS_OF,
  },
  xrayTracesPerMillion: {
    usd: 5,
    unit: 'per million traces recorded',
    source: 'https://aws.amazon.com/xray/pricing/',
    asOf: AS_OF,
  },
  kmsKeyMonth: {
    usd: 1,
    unit: 'per customer-managed key-month',
    source: 'https://aws.amazon.com/kms/pricing/',
    asOf: AS_OF,
  },
  kmsRequestsPerTenThousand: {
    usd: 0.03,
    unit: 'per 10,000 symmetric key requests',
    source: 'https://aws.amazon.com/kms/pricing/',
    asOf: AS_OF,
  },
  quickSightAuthorMonth: {
    usd: 24,
    unit: 'per QuickSight author-month (monthly commitment)',
    source: 'https://aws.amazon.com/quicksight/pricing/',
    asOf: AS_OF,
  },
  quickSightReaderMonth: {
    usd: 3,
    unit: 'per QuickSight reader-month',
    source: 'https://aws.amazon.com/quicksight/pricing/',
    asOf: AS_OF,
  },
} as const satisfies Record<string, ListPrice>;

export type PriceName = keyof typeof PRICES;
