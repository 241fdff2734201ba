/**
 * Development stage: cheap, short retention, no API cache cluster. Data is still RETAINed on
 * `cdk destroy` (set `destroyOnRemoval: true` in a throw-away copy if you really want it gone).
 */
import type { StageConfig } from './stage-config.ts';

export const dev: StageConfig = {
  stage: 'dev',
  destroyOnRemoval: false,
  logRetentionDays: 14,
  lake: {
    noncurrentVersionExpirationDays: 7,
    quarantineExpirationDays: 30,
    athenaResultsExpirationDays: 7,
    landingExpirationDays: 30,
    accessLogsExpirationDays: 30,
  },
  athena: { bytesScannedCutoffPerQuery: 1_000_000_000 },
  icebergMaintenance: {
    glueTableOptimizers: false,
    snapshotRetentionDays: 3,
    numberOfSnapshotsToRetain: 5,
    orphanFileRetentionDays: 3,
  },
  // Cost options for a small shop (docs/cost.md): one provisioned shard, a 30 s batching window, an
  // auto-scaled provisioned features table,
  // 5% of API requests traced, and the ETL's own Athena OPTIMIZE/VACUUM instead of per-table
  // Glue optimizers (billed at a 1-minute DPU minimum per table and run, whatever the volume).
  stream: { mode: 'provisioned', shards: 1 },
  consumer: { maxBatchingWindowSeconds: 30 },
  featuresTable: {
    billing: 'provisioned',
    writeUnits: { min: 5, max: 200 },
    readUnits: { min: 5, max: 200 },
    targetUtilizationPercent: 80,
  },
  tracing: { apiReservoirPerSecond: 0, apiFixedRate: 0.05 },
  firehose: { bufferIntervalSeconds: 300, bufferSizeMiB: 64 },
  api: {
    throttleRateLimit: 50,
    throttleBurstLimit: 100,
    quotaPerDay: 1_000_000,
    // A storefront on a developer machine may call the dev API with the public browser key.
    cors: { allowedOrigins: ['http://localhost:3000', 'http://127.0.0.1:3000'] },
    browserKey: { throttleRateLimit: 10, throttleBurstLimit: 20, quotaPerDay: 100_000 },
  },
  schedules: { etl: 'cron(30 2 * * ? *)', training: 'cron(0 4 ? * SUN *)', timeZone: 'UTC' },
  // No batch sources by default: add the shop's databases here (docs/deploy.md), e.g.
  // oltp: {
  //   jdbcUrl: 'jdbc:postgresql://shop-db.internal.example.com:5432/shop',
  //   secret: 'shoplake/oltp',
  //   subnets: [{ subnetId: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }],
  //   securityGroupIds: ['sg-0123456789abcdef0'],
  // },
  // or pass them at deploy time: -c sources='{"oltp":{...}}'.
  sources: {},
  alarms: { iteratorAgeMs: 60_000, apiP99LatencyMs: 2_000, api5xxPer5Minutes: 5 },
};
