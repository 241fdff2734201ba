/**
 * Builds the shoplake CDK app: one stack per concern, wired with typed props, and cdk-nag's
 * AwsSolutions pack as a validation plugin (an unacknowledged finding fails synthesis).
 * Shared by `infra/app.ts` (the `cdk` entry point), `infra/synth.ts` (in-process synthesis for
 * the local runtime and tests) and the infra tests.
 */
import { type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { StageConfig } from './config/stage-config.ts';
import { IamWildcardPolicy } from './constructs/iam-wildcards.ts';
import { stackName } from './definitions/stack-names.ts';
import { AnalyticsStack } from './stacks/analytics-stack.ts';
import { ApiStack } from './stacks/api-stack.ts';
import { BiStack } from './stacks/bi-stack.ts';
import { IngestionStack } from './stacks/ingestion-stack.ts';
import { ObservabilityStack } from './stacks/observability-stack.ts';
import { ProcessingStack } from './stacks/processing-stack.ts';
import { ServingStack } from './stacks/serving-stack.ts';
import { StorageStack } from './stacks/storage-stack.ts';

export interface ShoplakeStacks {
  readonly storage: StorageStack;
  readonly serving: ServingStack;
  readonly ingestion: IngestionStack;
  readonly api: ApiStack;
  readonly analytics: AnalyticsStack;
  readonly processing: ProcessingStack;
  /** Only when `quicksightPrincipalArn` is configured. */
  readonly bi: BiStack | undefined;
  readonly observability: ObservabilityStack;
}

export { stackName } from './definitions/stack-names.ts';

/**
 * Adds every shoplake stack for `config` to `app`. `nag: false` leaves out the cdk-nag plugin
 * (for callers that only need templates fast, e.g. the local runtime).
 */
export function buildShoplake(
  app: App,
  config: StageConfig,
  options: { nag?: boolean } = {},
): ShoplakeStacks {
  // The wildcard policy runs first: it acknowledges allowed IAM5 findings before cdk-nag looks.
  if (options.nag ?? true)
    Validations.of(app).addPlugins(new IamWildcardPolicy(app), new AwsSolutionsChecks(app));
  const env = config.env;
  const common = (concern: string, description: string) => ({
    stackName: stackName(config, concern),
    description: `shoplake ${config.stage}: ${description}`,
    env,
    config,
  });

  const storage = new StorageStack(app, 'Storage', {
    ...common('Storage', 'lake bucket, Glue catalog and Iceberg tables, Athena workgroup'),
  });
  const serving = new ServingStack(app, 'Serving', {
    ...common('Serving', 'DynamoDB feature and recommendation tables, recommendations Lambda'),
  });
  const ingestion = new IngestionStack(app, 'Ingestion', {
    ...common('Ingestion', 'ingest Lambda, Kinesis events stream, stream consumer, Firehose to bronze'),
    lakeBucket: storage.lakeBucket,
    lakeRootUri: storage.lakeRootUri,
    featuresTable: serving.featuresTable,
    bronzeEventsTable: storage.catalog.bronzeEvents,
    bronzeAccessLogsTable: storage.catalog.table('bronze', 'access_logs'),
  });
  const analytics = new AnalyticsStack(app, 'Analytics', {
    ...common('Analytics', 'analytics API Lambda (dashboard data sets through Athena)'),
    lakeBucket: storage.lakeBucket,
    lakeKey: storage.lakeKey,
    workGroupName: storage.workGroupName,
    goldDatabaseName: storage.catalog.databaseNames.gold,
  });
  const handlers = {
    'ingest/handler.ts': ingestion.ingestFunction.function,
    'recommendations/handler.ts': serving.recommendationsFunction.function,
    'analytics/handler.ts': analytics.analyticsFunction.function,
  };
  const api = new ApiStack(app, 'Api', {
    ...common('Api', 'REST API (POST /events, GET recommendations) with API keys and usage plans'),
    handlers,
    accessLogShipper: ingestion.accessLogs.shipperFunction.function,
  });
  const processing = new ProcessingStack(app, 'Processing', {
    ...common('Processing', 'ETL and training state machines, schedules, task Lambdas'),
    storage,
    recommendationsTable: serving.recommendationsTable,
    featuresTable: serving.featuresTable,
  });
  const bi = config.quicksightPrincipalArn
    ? new BiStack(app, 'Bi', {
        ...common('Bi', 'QuickSight data source, data sets and monthly dashboard'),
        quicksightPrincipalArn: config.quicksightPrincipalArn,
        workGroupName: storage.workGroupName,
      })
    : undefined;
  if (bi) bi.addStackDependency(storage);
  const observability = new ObservabilityStack(app, 'Observability', {
    ...common('Observability', 'CloudWatch dashboard and alarms'),
    ingestion,
    serving,
    api,
    processing,
  });

  Tags.of(app).add('shoplake:stage', config.stage);
  Tags.of(app).add('shoplake:app', 'shoplake');
  return { storage, serving, ingestion, api, analytics, processing, bi, observability };
}
