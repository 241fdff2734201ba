/**
 * Physical shape of the stateful resources that both the CDK stacks and the local runtime
 * create: key schemas, TTL attributes, stream settings. The CDK stacks build their constructs
 * from these objects; the local runtime and the integration tests create the emulator
 * resources from the *synthesized template* (see `local/runtime/provision.ts`), and an infra
 * test checks that template against these definitions, so the three cannot drift.
 *
 * Shapes follow CloudFormation property names, so the same converter serves both sources.
 */

export interface KeyAttribute {
  readonly AttributeName: string;
  readonly AttributeType: 'S' | 'N' | 'B';
}

export interface TableDefinition {
  /** Construct id in the CDK stack and logical name for the local runtime. */
  readonly id: string;
  readonly description: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Epoch-seconds attribute that DynamoDB TTL deletes on. */
  readonly timeToLiveAttribute?: string;
  readonly globalSecondaryIndexes?: readonly {
    readonly IndexName: string;
    readonly partitionKey: KeyAttribute;
    readonly sortKey?: KeyAttribute;
  }[];
}

/** Real-time features: recent items per user/session, trending windows, dedup markers. */
export const FEATURES_TABLE: TableDefinition = {
  id: 'FeaturesTable',
  description: 'Real-time features written by the stream consumer',
  partitionKey: { AttributeName: 'pk', AttributeType: 'S' },
  sortKey: { AttributeName: 'sk', AttributeType: 'S' },
  timeToLiveAttribute: 'expires_at',
};

/** Published recommendation lists per model version, the model registry and active pointer. */
export const RECOMMENDATIONS_TABLE: TableDefinition = {
  id: 'RecommendationsTable',
  description: 'Recommendation lists, model registry and the active-model pointer',
  partitionKey: { AttributeName: 'pk', AttributeType: 'S' },
  sortKey: { AttributeName: 'sk', AttributeType: 'S' },
  timeToLiveAttribute: 'expires_at',
};

export const TABLES = [FEATURES_TABLE, RECOMMENDATIONS_TABLE] as const;

export interface StreamDefinition {
  readonly id: string;
  readonly description: string;
  /** On AWS the stream is on-demand; locally the emulator gets this many shards. */
  readonly localShardCount: number;
  readonly retentionHours: number;
}

export const EVENTS_STREAM: StreamDefinition = {
  id: 'EventsStream',
  description: 'Validated shop events, partitioned by session_id',
  localShardCount: 2,
  retentionHours: 24,
};

/**
 * Event-source mapping of the stream consumer: the CDK stack sets these on AWS and the local
 * runtime's poller honours the same numbers.
 */
export const CONSUMER_EVENT_SOURCE = {
  batchSize: 500,
  maxBatchingWindowSeconds: 1,
  bisectBatchOnError: true,
  maxRetryAttempts: 5,
  maxRecordAgeSeconds: 6 * 60 * 60,
  parallelizationFactor: 1,
  reportBatchItemFailures: true,
} as const;

/** Object-store prefixes inside the lake bucket (locally, folders under the state dir). */
export const LAKE_PREFIXES = {
  landingEvents: 'landing/events/',
  quarantine: 'quarantine/',
  firehoseErrors: 'errors/firehose/',
  /** Access-log lines the access-log delivery stream could not transform or deliver. */
  accessLogErrors: 'errors/access-logs/',
  warehouse: 'warehouse/',
  athenaResults: 'athena-results/',
} as const;
