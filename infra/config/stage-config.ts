/**
 * Typed stage configuration. A stage (`dev`, `prod`) is a TypeScript object checked by the zod
 * schema below when the app is built, so a bad value fails `cdk synth` with the stage name, the
 * field and what is wrong, instead of surfacing as a CloudFormation error minutes into a deploy.
 * Chosen with `-c stage=<name>`; CloudFormation parameters are deliberately not used.
 */
import { z } from 'zod';
import { parseCorsOrigins } from '../../lambdas/shared/cors.ts';

/** Log retention values CloudWatch Logs accepts (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const positiveInt = z.number().int().positive();
/** EventBridge Scheduler cron body: six fields (minutes hours day-of-month month day-of-week year). */
const schedulerCron = z
  .string()
  .regex(/^cron\((\S+ ){5}\S+\)$/, 'must be an EventBridge Scheduler cron expression like cron(0 3 * * ? *)');

/** Glue worker types of a Glue 5.0 Spark job (DPUs per worker: 1, 2, 4, 8). */
export const GLUE_WORKER_TYPES = ['G.1X', 'G.2X', 'G.4X', 'G.8X'] as const;
/** DPUs of one worker of each type (AWS Glue pricing: G.1X = 1 DPU, …). */
export const GLUE_WORKER_DPUS: Readonly<Record<(typeof GLUE_WORKER_TYPES)[number], number>> = {
  'G.1X': 1,
  'G.2X': 2,
  'G.4X': 4,
  'G.8X': 8,
};

/** Sizing of an extract job when its source does not say: the smallest Glue 5.0 Spark job. */
export const DEFAULT_EXTRACT_JOB = {
  workerType: 'G.1X',
  numberOfWorkers: 2,
  timeoutMinutes: 60,
} as const satisfies {
  workerType: (typeof GLUE_WORKER_TYPES)[number];
  numberOfWorkers: number;
  timeoutMinutes: number;
};

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

/**
 * One batch source the Glue extract job reads (the shop's OLTP PostgreSQL, its marketing
 * database): where it is on the network and which secret holds its credentials. Only the
 * secret's name or ARN is configured, never a value; the job reads it at run time.
 */
export const ExtractSourceSchema = z.strictObject({
  /** JDBC URL of the PostgreSQL database: `jdbc:postgresql://<host>[:<port>]/<database>`. */
  jdbcUrl: z
    .string()
    .regex(
      /^jdbc:postgresql:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/[A-Za-z0-9_$-]+$/,
      'must be jdbc:postgresql://<host>[:<port>]/<database> (no credentials, no query string: SSL is enforced by the connection)',
    ),
  /**
   * Name or ARN of the Secrets Manager secret holding the credentials (RDS secret format:
   * username, password, host, port, dbname).
   */
  secret: z
    .string()
    .refine((v) => SECRET_NAME.test(v) || SECRET_ARN.test(v), 'must be a Secrets Manager secret name or ARN'),
  /** ARN of the KMS key encrypting the secret, when it is not the account's aws/secretsmanager key. */
  secretKmsKeyArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-f0-9-]+$/, 'must be a KMS key ARN')
    .optional(),
  /**
   * Subnets from which Glue reaches the database (private, with a route to it and to S3/Glue/
   * Secrets Manager, e.g. VPC endpoints or a NAT gateway). One Glue connection per subnet; the
   * job tries them in order (the next when an Availability Zone is unavailable).
   */
  subnets: z
    .array(
      z.strictObject({
        subnetId: z
          .string()
          .regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id like subnet-0123456789abcdef0'),
        availabilityZone: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'must be an AZ like us-east-1a'),
      }),
    )
    .min(1)
    .max(4),
  /**
   * Security groups of the job's network interfaces: the database's group must admit them on
   * its port, and one of them must allow all TCP from itself (Glue workers talk to each other).
   */
  securityGroupIds: z
    .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id like sg-0123456789abcdef0'))
    .min(1)
    .max(5),
  /** Job sizing. @default DEFAULT_EXTRACT_JOB */
  job: z
    .strictObject({
      workerType: z.enum(GLUE_WORKER_TYPES),
      /** Glue Spark jobs need at least 2 workers (one driver, one executor). */
      numberOfWorkers: z.number().int().min(2).max(299),
      /** Minutes before Glue stops a run (the ETL execution itself times out after 6 h). */
      timeoutMinutes: z.number().int().min(5).max(300),
    })
    .optional(),
});

export type ExtractSourceConfig = z.infer<typeof ExtractSourceSchema>;

export const StageConfigSchema = z.strictObject({
  /** Stage name; becomes part of every stack name (`Shoplake-<stage>-Storage`). */
  stage: z.string().regex(/^[a-z][a-z0-9-]{1,19}$/, 'must be 2-20 lowercase letters, digits or dashes'),
  /**
   * Optional fixed deployment target. Left unset, stacks are environment-agnostic so that
   * `cdk synth` needs no credentials and makes no context lookups.
   */
  env: z
    .strictObject({
      account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a region like us-east-1'),
    })
    .optional(),
  /**
   * Delete buckets, tables, keys and log groups with the stacks. Only for throw-away stages:
   * everything holding data is RETAINed unless this is explicitly `true`.
   */
  destroyOnRemoval: z.boolean(),
  /** Retention of every Lambda, API access-log and Step Functions log group. */
  logRetentionDays: z.union(LOG_RETENTION_DAYS.map((d) => z.literal(d))),
  lake: z.strictObject({
    /** Days after which non-current object versions in the lake bucket expire. */
    noncurrentVersionExpirationDays: positiveInt,
    /** Days quarantined (rejected) records are kept for operators to inspect. */
    quarantineExpirationDays: positiveInt,
    /** Days Athena query results are kept. */
    athenaResultsExpirationDays: positiveInt,
    /** Days raw landing files (exports dropped by the shop) are kept after ingestion. */
    landingExpirationDays: positiveInt,
    /** Days server access logs of the lake bucket are kept. */
    accessLogsExpirationDays: positiveInt,
  }),
  athena: z.strictObject({
    /** Per-query scan limit enforced by the workgroup (Athena minimum is 10 MB). */
    bytesScannedCutoffPerQuery: z.number().int().min(10_000_000),
  }),
  icebergMaintenance: z.strictObject({
    /**
     * Glue table optimizers (compaction, snapshot retention, orphan-file deletion) maintain
     * every table. When true the scheduled ETL skips its own Athena OPTIMIZE/VACUUM (the
     * schedule passes `glueTableOptimizers: true`), so maintenance runs once; when false no
     * optimizers are created and the ETL maintains the tables.
     */
    glueTableOptimizers: z.boolean(),
    /** Snapshots older than this are expired by the Glue retention optimizer. */
    snapshotRetentionDays: positiveInt,
    /** Minimum snapshots the retention optimizer keeps regardless of age. */
    numberOfSnapshotsToRetain: positiveInt,
    /** Files unreferenced for this long are deleted by the orphan-file optimizer. */
    orphanFileRetentionDays: positiveInt,
  }),
  /**
   * Capacity of the events stream. `on-demand` scales by itself and bills a stream-hour floor
   * ($0.04/h) plus per-GB ingest and retrieval; `provisioned` bills per shard-hour ($0.015/h)
   * and per 25 KB PUT payload unit, with retrieval included, so a small shop pays a fraction.
   * One shard takes 1 MB/s or 1,000 records/s in: at ~500 B per event that is ~1,000 events/s
   * (about 70% of it, 700 events/s, before scaling up is wise; `docs/cost.md`).
   */
  stream: z.discriminatedUnion('mode', [
    z.strictObject({ mode: z.literal('on-demand') }),
    z.strictObject({ mode: z.literal('provisioned'), shards: z.number().int().min(1).max(500) }),
  ]),
  /**
   * Capacity mode of the features table (the stream consumer's writes). `on-demand` bills per
   * request unit; `provisioned` bills per provisioned unit-hour (about 3.5x cheaper per unit
   * at full use) and scales between `min` and `max` units to keep utilisation near
   * `targetUtilizationPercent`. A steady small shop is cheaper provisioned; spiky traffic
   * beyond `max` is throttled and retried by the event-source mapping (iterator age grows).
   */
  featuresTable: z.discriminatedUnion('billing', [
    z.strictObject({ billing: z.literal('on-demand') }),
    z.strictObject({
      billing: z.literal('provisioned'),
      writeUnits: z.strictObject({ min: positiveInt, max: positiveInt }),
      readUnits: z.strictObject({ min: positiveInt, max: positiveInt }),
      targetUtilizationPercent: z.number().int().min(20).max(90),
    }),
  ]),
  consumer: z.strictObject({
    /**
     * Seconds the event-source mapping gathers records per shard before invoking the stream
     * consumer (the freshness of trending/recent-items features). Longer windows mean fewer
     * invocations and fewer window-counter writes per event.
     */
    maxBatchingWindowSeconds: z.number().int().min(0).max(300),
  }),
  tracing: z.strictObject({
    /**
     * X-Ray sampling rule of the API stage (API Gateway and the Lambdas it invokes follow its
     * decision): traces per second always recorded, then this fraction of the rest. X-Ray's
     * default rule is 1 per second + 5%; `reservoirPerSecond: 0` records only the fraction.
     */
    apiReservoirPerSecond: z.number().int().min(0),
    apiFixedRate: z.number().min(0).max(1),
  }),
  firehose: z.strictObject({
    /** Seconds Firehose buffers before committing to the bronze Iceberg table. */
    bufferIntervalSeconds: z.number().int().min(0).max(900),
    /** MiB Firehose buffers before committing. */
    bufferSizeMiB: z.number().int().min(1).max(128),
  }),
  api: z.strictObject({
    /** Steady-state requests per second per API key (usage plan). */
    throttleRateLimit: z.number().positive(),
    /** Burst requests per API key (usage plan). */
    throttleBurstLimit: positiveInt,
    /** Requests per day per API key. */
    quotaPerDay: positiveInt,
    /**
     * API Gateway response cache for the GET routes. `sizeGb` is the cache cluster size;
     * `undefined` disables the (billed per hour) cache cluster.
     */
    cache: z
      .strictObject({
        sizeGb: z.enum(['0.5', '1.6', '6.1', '13.5', '28.4', '58.2', '118', '237']),
        ttlSeconds: z.number().int().min(0).max(3600),
      })
      .optional(),
    /**
     * Opt-in CORS for browser clients (the web tracker, clients/web): origins allowed to call
     * `POST /events` from a page (`scheme://host[:port]`, or `*` alone). Credentials are never
     * allowed. Absent: no CORS (server-to-server only).
     */
    cors: z
      .strictObject({
        allowedOrigins: z
          .array(z.string())
          .min(1)
          .superRefine((origins, ctx) => {
            try {
              parseCorsOrigins(origins);
            } catch (error) {
              ctx.addIssue({ code: 'custom', message: (error as Error).message });
            }
          }),
      })
      .optional(),
    /**
     * A third, public key for browsers (it is visible in the page): its usage plan allows only
     * `POST /events` (every GET method is throttled to 0 requests) at these lower limits.
     * Absent: no browser key.
     */
    browserKey: z
      .strictObject({
        throttleRateLimit: z.number().positive(),
        throttleBurstLimit: positiveInt,
        quotaPerDay: positiveInt,
      })
      .optional(),
  }),
  schedules: z.strictObject({
    /** Daily ETL (bronze → silver → gold). */
    etl: schedulerCron,
    /** Weekly recommendation training. */
    training: schedulerCron,
    /** IANA time zone the cron expressions are evaluated in. */
    timeZone: z.string().min(1),
  }),
  /** E-mail subscribed to alarm and pipeline-failure notifications (none when unset). */
  notificationEmail: z.email().optional(),
  /**
   * ARN of the QuickSight user or group that owns the BI data source, data sets and dashboard.
   * The BI stack is only created when this is set (QuickSight needs an account subscription).
   */
  quicksightPrincipalArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:\d{12}:(user|group)\/.+$/,
      'must be a QuickSight user or group ARN',
    )
    .optional(),
  /**
   * The shop's databases read by the Glue extract jobs (`glue-jobs/`). A source that is absent
   * has no connection and no job, and the ETL skips its extract step (docs/deploy.md).
   */
  sources: z.strictObject({
    /** The OLTP PostgreSQL (customers, products, orders, order lines, reviews, payments). */
    oltp: ExtractSourceSchema.optional(),
    /** The marketing database (marketing-qualified leads, closed deals). */
    marketing: ExtractSourceSchema.optional(),
  }),
  alarms: z.strictObject({
    /** Iterator age (ms) of the stream consumer above which the pipeline is considered behind. */
    iteratorAgeMs: positiveInt,
    /** API p99 latency (ms) alarm threshold. */
    apiP99LatencyMs: positiveInt,
    /** 5xx responses per 5 minutes that raise an alarm. */
    api5xxPer5Minutes: positiveInt,
  }),
});

export type StageConfig = z.infer<typeof StageConfigSchema>;

/** A stage configuration that does not pass the schema: names the stage and every bad field. */
export class StageConfigError extends Error {
  constructor(
    readonly stage: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid stage configuration "${stage}":\n  - ${problems.join('\n  - ')}`);
    this.name = 'StageConfigError';
  }
}

/** Validates a stage object and returns it typed; throws `StageConfigError` listing every problem. */
export function validateStageConfig(name: string, input: unknown): StageConfig {
  const parsed = StageConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
  );
  throw new StageConfigError(name, problems);
}
