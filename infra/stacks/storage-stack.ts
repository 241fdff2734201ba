/**
 * Storage and catalog: the lake bucket (KMS, versioned, lifecycle, access-logged, TLS only),
 * the Glue databases and Iceberg tables generated from the table catalog, Glue table
 * optimizers (compaction, snapshot retention, orphan-file deletion), the Athena workgroup
 * with enforced settings, and the SQL of `athena/` as named queries.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ArnFormat, Aws, CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config.ts';
import { type LakeCatalog, lakeCatalog } from '../constructs/lake-catalog.ts';
import { ATHENA_DIR } from '../constructs/paths.ts';
import { dataRemovalPolicy, secureBucket, secureKey } from '../constructs/secure-defaults.ts';
import { pascalCase } from '../constructs/state-machine-files.ts';
import { LAKE_PREFIXES } from '../definitions/resources.ts';

/** Athena engine every query runs on (Iceberg MERGE needs v3). */
export const ATHENA_ENGINE_VERSION = 'Athena engine version 3';
/** Days after which incomplete multipart uploads are aborted in every bucket. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 7;
/** Iceberg maintenance run by Glue table optimizers on every table of the catalog. */
export const TABLE_OPTIMIZER_TYPES = ['compaction', 'retention', 'orphan_file_deletion'] as const;

export interface StorageStackProps extends StackProps {
  readonly config: StageConfig;
}

export class StorageStack extends Stack {
  readonly lakeKey: kms.Key;
  readonly lakeBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly catalog: LakeCatalog;
  readonly workGroup: athena.CfnWorkGroup;
  /** Workgroup name (physical, derived from the stage). */
  readonly workGroupName: string;
  /** `s3://bucket/`: the lake root (handlers put quarantine objects under `quarantine/`). */
  readonly lakeRootUri: string;
  /** `s3://bucket/warehouse/`: root of the Iceberg tables. */
  readonly warehouseUri: string;
  readonly namedQueries: Readonly<Record<string, athena.CfnNamedQuery>>;

  constructor(scope: Construct, id: string, props: StorageStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.lakeKey = secureKey(this, 'LakeKey', config, { description: `shoplake ${config.stage} lake data` });

    // Server access logs require SSE-S3 on the target bucket (KMS targets are not supported).
    this.accessLogsBucket = secureBucket(this, 'AccessLogsBucket', config, {
      encryption: s3.BucketEncryption.S3_MANAGED,
      // BUCKET_OWNER_ENFORCED + bucket-policy delivery (cdk.json feature flag) for access logs.
      lifecycleRules: [
        { id: 'ExpireAccessLogs', expiration: Duration.days(config.lake.accessLogsExpirationDays) },
        {
          id: 'ExpireNoncurrent',
          noncurrentVersionExpiration: Duration.days(config.lake.noncurrentVersionExpirationDays),
        },
        {
          id: 'AbortIncompleteUploads',
          abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_UPLOAD_DAYS),
        },
      ],
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason:
        'This bucket is the server access log target of the lake bucket; logging it into itself would loop.',
    });

    this.lakeBucket = secureBucket(this, 'LakeBucket', config, {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.lakeKey,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [
        {
          id: 'ExpireNoncurrent',
          noncurrentVersionExpiration: Duration.days(config.lake.noncurrentVersionExpirationDays),
        },
        {
          id: 'AbortIncompleteUploads',
          abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_UPLOAD_DAYS),
        },
        {
          id: 'ExpireQuarantine',
          prefix: LAKE_PREFIXES.quarantine,
          expiration: Duration.days(config.lake.quarantineExpirationDays),
        },
        {
          id: 'ExpireAthenaResults',
          prefix: LAKE_PREFIXES.athenaResults,
          expiration: Duration.days(config.lake.athenaResultsExpirationDays),
        },
        {
          id: 'ExpireLanding',
          prefix: LAKE_PREFIXES.landingEvents,
          expiration: Duration.days(config.lake.landingExpirationDays),
        },
        {
          id: 'ExpireFirehoseErrors',
          prefix: LAKE_PREFIXES.firehoseErrors,
          expiration: Duration.days(config.lake.quarantineExpirationDays),
        },
      ],
    });
    this.lakeRootUri = `s3://${this.lakeBucket.bucketName}/`;
    this.warehouseUri = this.lakeBucket.s3UrlForObject(LAKE_PREFIXES.warehouse);

    this.catalog = lakeCatalog(this, 'Catalog', { config, warehouseUri: this.warehouseUri });
    // What `shoplake tables --stage` and operators read (docs/deploy.md#outputs).
    new CfnOutput(this, 'LakeBucketName', {
      value: this.lakeBucket.bucketName,
      description: 'S3 bucket of the lake (warehouse, landing, quarantine, Athena results)',
    });
    new CfnOutput(this, 'GlueDatabaseNames', {
      value: Object.values(this.catalog.databaseNames).join(','),
      description: 'Glue databases of the lake (bronze, silver, gold, ops, ml), comma-separated',
    });

    // Either Glue optimizers or the ETL's OPTIMIZE/VACUUM maintain the tables, never both.
    if (config.icebergMaintenance.glueTableOptimizers) this.createTableOptimizers(config);

    this.workGroupName = `shoplake-${config.stage}`;
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: `shoplake ${config.stage}: ETL, training and BI queries`,
      state: 'ENABLED',
      recursiveDeleteOption: config.destroyOnRemoval,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: config.athena.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: ATHENA_ENGINE_VERSION },
        resultConfiguration: {
          outputLocation: this.lakeBucket.s3UrlForObject(LAKE_PREFIXES.athenaResults),
          expectedBucketOwner: Aws.ACCOUNT_ID,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: this.lakeKey.keyArn },
        },
      },
    });
    this.workGroup.applyRemovalPolicy(dataRemovalPolicy(config));

    this.namedQueries = this.createNamedQueries();
  }

  /** Compaction, snapshot retention and orphan-file deletion on every Iceberg table. */
  private createTableOptimizers(config: StageConfig): void {
    const role = new iam.Role(this, 'TableOptimizerRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'Glue table optimizers: Iceberg compaction, snapshot retention, orphan-file deletion',
    });
    this.lakeBucket.grantReadWrite(role, `${LAKE_PREFIXES.warehouse}*`);
    this.lakeBucket.grantDelete(role, `${LAKE_PREFIXES.warehouse}*`);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetTable', 'glue:UpdateTable', 'glue:GetDatabase'],
        resources: [
          this.formatArn({ service: 'glue', resource: 'catalog' }),
          ...this.catalog.databaseArns,
          ...this.catalog.tableArns,
        ],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [
          this.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '/aws-glue/iceberg*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    const maintenance = config.icebergMaintenance;
    for (const table of this.catalog.tables) {
      for (const type of TABLE_OPTIMIZER_TYPES) {
        const optimizer = new glue.CfnTableOptimizer(
          this,
          `${table.constructId}${pascalCase(type)}Optimizer`,
          {
            catalogId: Aws.ACCOUNT_ID,
            databaseName: table.databaseName,
            tableName: table.tableName,
            type,
            tableOptimizerConfiguration: {
              roleArn: role.roleArn,
              enabled: true,
              ...(type === 'retention'
                ? {
                    retentionConfiguration: {
                      icebergConfiguration: {
                        snapshotRetentionPeriodInDays: maintenance.snapshotRetentionDays,
                        numberOfSnapshotsToRetain: maintenance.numberOfSnapshotsToRetain,
                        cleanExpiredFiles: true,
                      },
                    },
                  }
                : {}),
              ...(type === 'orphan_file_deletion'
                ? {
                    orphanFileDeletionConfiguration: {
                      icebergConfiguration: {
                        orphanFileRetentionPeriodInDays: maintenance.orphanFileRetentionDays,
                      },
                    },
                  }
                : {}),
            },
          },
        );
        optimizer.addResourceDependency(table.resource);
        const policy = role.node.tryFindChild('DefaultPolicy');
        if (policy) optimizer.node.addDependency(policy);
      }
    }
  }

  /** Every `athena/**.sql` file becomes a named query in the workgroup (name = relative path). */
  private createNamedQueries(): Record<string, athena.CfnNamedQuery> {
    const queries: Record<string, athena.CfnNamedQuery> = {};
    for (const file of listSqlFiles(ATHENA_DIR)) {
      const name = relative(ATHENA_DIR, file).replaceAll('\\', '/');
      const query = new athena.CfnNamedQuery(this, `Query${pascalCase(name.replace(/\.sql$/, ''))}`, {
        name,
        description: `athena/${name}`,
        database: this.catalog.defaultDatabaseName,
        workGroup: this.workGroup.ref,
        queryString: readFileSync(file, 'utf8'),
      });
      queries[name] = query;
    }
    return queries;
  }
}

/** Sorted `.sql` files under a directory (recursive); none when the directory does not exist. */
export function listSqlFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch (error: unknown) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.endsWith('.sql'))
    .map((entry) => join(dir, entry))
    .sort();
}
