/**
 * Analytics API back end: the Lambda behind `GET /analytics/{dataset}` (routes come from
 * `api-routes.ts` through the API stack). It runs the dashboard data-set queries
 * (`lambdas/shared/analytics/datasets.ts`) on Athena in the stage's workgroup and may only
 * read: Athena query actions on that one workgroup, Glue reads of the gold database, S3 reads of
 * the gold tables, and writes only of its query results under the workgroup's results prefix.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { ATHENA_PORT_DEFAULTS } from '../../lambdas/analytics/athena-port.ts';
import { DEFAULT_DATABASE_PREFIX } from '../../lambdas/shared/catalog/index.ts';
import type { StageConfig } from '../config/stage-config.ts';
import { ShoplakeFunction } from '../constructs/shoplake-function.ts';
import { LAKE_PREFIXES } from '../definitions/resources.ts';

/** Handler module of the analytics route (relative to `lambdas/`). */
export const ANALYTICS_HANDLER = 'analytics/handler.ts';
/** Lambda timeout: the per-query wait plus paging, under API Gateway's 29 s integration limit. */
export const ANALYTICS_FUNCTION_TIMEOUT = Duration.seconds(28);

export interface AnalyticsStackProps extends StackProps {
  readonly config: StageConfig;
  readonly lakeBucket: s3.IBucket;
  readonly lakeKey: kms.IKey;
  readonly workGroupName: string;
  /** Glue database holding the gold tables. */
  readonly goldDatabaseName: string;
}

export class AnalyticsStack extends Stack {
  readonly analyticsFunction: ShoplakeFunction;

  constructor(scope: Construct, id: string, props: AnalyticsStackProps) {
    super(scope, id, props);
    const { config } = props;
    const fn = new ShoplakeFunction(this, 'AnalyticsFunction', {
      entry: ANALYTICS_HANDLER,
      serviceName: 'analytics',
      description: 'GET /analytics/{dataset}: dashboard data sets from gold through Athena',
      config,
      memorySize: 512,
      timeout: ANALYTICS_FUNCTION_TIMEOUT,
    });
    fn.addEnvironment('ATHENA_WORKGROUP', props.workGroupName);
    fn.addEnvironment('GLUE_DATABASE_PREFIX', DEFAULT_DATABASE_PREFIX);
    fn.addEnvironment('ANALYTICS_QUERY_TIMEOUT_MS', String(ATHENA_PORT_DEFAULTS.timeoutMs));
    fn.addEnvironment('ANALYTICS_RESULT_REUSE_MINUTES', String(ATHENA_PORT_DEFAULTS.resultReuseMinutes));

    iam.Grant.addToPrincipal({
      grantee: fn.function,
      actions: [
        'athena:StartQueryExecution',
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StopQueryExecution',
        'athena:GetWorkGroup',
      ],
      resourceArns: [
        this.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workGroupName }),
      ],
    });
    iam.Grant.addToPrincipal({
      grantee: fn.function,
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'],
      resourceArns: [
        this.formatArn({ service: 'glue', resource: 'catalog' }),
        this.formatArn({ service: 'glue', resource: 'database', resourceName: props.goldDatabaseName }),
        this.formatArn({ service: 'glue', resource: 'table', resourceName: `${props.goldDatabaseName}/*` }),
      ],
    });
    props.lakeBucket.grantRead(fn.function, `${LAKE_PREFIXES.warehouse}gold/*`);
    props.lakeBucket.grantReadWrite(fn.function, `${LAKE_PREFIXES.athenaResults}*`);
    props.lakeKey.grantEncryptDecrypt(fn.function);
    this.analyticsFunction = fn;
  }
}
