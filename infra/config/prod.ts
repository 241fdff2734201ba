/**
 * Production stage: longer retention, API response cache, stricter alarms. Set
 * `notificationEmail` and (with a QuickSight subscription) `quicksightPrincipalArn` for a real shop.
 */
import type { StageConfig } from './stage-config.ts';

export const prod: StageConfig = {
  stage: 'prod',
  destroyOnRemoval: false,
  logRetentionDays: 90,
  lake: {
    noncurrentVersionExpirationDays: 30,
    quarantineExpirationDays: 90,
    athenaResultsExpirationDays: 30,
    landingExpirationDays: 90,
    accessLogsExpirationDays: 365,
  },
  athena: { bytesScannedCutoffPerQuery: 10_000_000_000 },
  icebergMaintenance: {
    glueTableOptimizers: true,
    snapshotRetentionDays: 7,
    numberOfSnapshotsToRetain: 10,
    orphanFileRetentionDays: 7,
  },
  stream: { mode: 'on-demand' },
  consumer: { maxBatchingWindowSeconds: 1 },
  featuresTable: { billing: 'on-demand' },
  tracing: { apiReservoirPerSecond: 1, apiFixedRate: 0.05 },
  firehose: { bufferIntervalSeconds: 300, bufferSizeMiB: 128 },
  api: {
    throttleRateLimit: 500,
    throttleBurstLimit: 1_000,
    quotaPerDay: 50_000_000,
    cache: { sizeGb: '0.5', ttlSeconds: 300 },
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
  alarms: { iteratorAgeMs: 30_000, apiP99LatencyMs: 1_000, api5xxPer5Minutes: 5 },
};
