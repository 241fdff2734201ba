/**
 * The Glue extract jobs of a stage's batch sources (`sources.oltp`, `sources.marketing` in the
 * stage config): per source, one JDBC Glue connection per configured subnet (SSL enforced,
 * credentials referenced by the Secrets Manager secret, never a value), a least-privilege role
 * and a Glue 5.0 PySpark job running `glue-jobs/extract_job.py` with the `glue-jobs/lib`
 * package, Iceberg and the Glue Data Catalog as its Spark catalog. A stage without sources
 * creates nothing here.
 */
import { join } from 'node:path';
import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  DEFAULT_EXTRACT_MODE,
  DEFAULT_SPARK_CATALOG,
  EXTRACT_SOURCES,
  type ExtractSource,
  GLUE_JOB_ARGS,
} from '../../lambdas/shared/extract-sources.ts';
import { DEFAULT_EXTRACT_JOB, type ExtractSourceConfig, type StageConfig } from '../config/stage-config.ts';
import { LAKE_PREFIXES } from '../definitions/resources.ts';
import { REPO_ROOT } from './paths.ts';
import { secureKey, stageLogGroup } from './secure-defaults.ts';
import { pascalCase } from './state-machine-files.ts';

/** The job's entry point (owned by glue-jobs/, GLUE-CONTRACT.md). */
export const EXTRACT_SCRIPT_PATH = join(REPO_ROOT, 'glue-jobs', 'extract_job.py');
/** Directory zipped into `--extra-py-files` (the zip holds `shoplake_glue/…`). */
export const EXTRACT_LIB_PATH = join(REPO_ROOT, 'glue-jobs', 'lib');

/** Glue version of the extract jobs: Spark 3.5, Python 3.11, Iceberg built in. */
export const EXTRACT_GLUE_VERSION = glue.GlueVersion.V5_0;

/**
 * EC2 actions Glue calls with the job role to place its workers in the connection's subnet;
 * the Describe calls support no resource-level permissions (AWS documents Resource "*").
 */
export const GLUE_VPC_DESCRIBE_ACTIONS = [
  'ec2:DescribeVpcEndpoints',
  'ec2:DescribeRouteTables',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcAttribute',
  'ec2:DescribeVpcs',
] as const;

/**
 * Spark settings making the Glue Data Catalog an Iceberg catalog named `catalog`, warehouse at
 * `warehouseUri`: the value of the job's `--conf` (Glue takes further settings as
 * `--conf k=v` inside the one value).
 */
export function icebergSparkConf(catalog: string, warehouseUri: string): string {
  const prefix = `spark.sql.catalog.${catalog}`;
  return [
    `${prefix}=org.apache.iceberg.spark.SparkCatalog`,
    `${prefix}.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog`,
    `${prefix}.io-impl=org.apache.iceberg.aws.s3.S3FileIO`,
    `${prefix}.warehouse=${warehouseUri}`,
    'spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions',
  ].join(' --conf ');
}

export interface SourceExtractJobsProps {
  readonly config: StageConfig;
  readonly lakeBucket: s3.IBucket;
  /** Key of the lake bucket: the jobs' S3 output is SSE-KMS with it. */
  readonly lakeKey: kms.IKey;
  /** `s3://<lake>/warehouse/`. */
  readonly warehouseUri: string;
  readonly bronzeDatabaseName: string;
  readonly opsDatabaseName: string;
}

/** One source's job and what it was given. */
export interface SourceExtractJob {
  readonly source: ExtractSource;
  readonly job: glue.PySparkEtlJob;
  readonly role: iam.Role;
  readonly connections: readonly glue.Connection[];
  readonly secret: secretsmanager.ISecret;
  readonly logGroup: logs.LogGroup;
}

/** The Secrets Manager secret a source names (by ARN or by name), imported without lookups. */
export function importSourceSecret(
  scope: Construct,
  id: string,
  source: Pick<ExtractSourceConfig, 'secret' | 'secretKmsKeyArn'>,
): secretsmanager.ISecret {
  const encryptionKey = source.secretKmsKeyArn
    ? kms.Key.fromKeyArn(scope, `${id}Key`, source.secretKmsKeyArn)
    : undefined;
  if (source.secret.startsWith('arn:')) {
    // A complete ARN ends in the 6-character suffix Secrets Manager appends to the name.
    const complete = /-[A-Za-z0-9]{6}$/.test(source.secret);
    return secretsmanager.Secret.fromSecretAttributes(scope, id, {
      ...(complete ? { secretCompleteArn: source.secret } : { secretPartialArn: source.secret }),
      ...(encryptionKey ? { encryptionKey } : {}),
    });
  }
  if (!encryptionKey) return secretsmanager.Secret.fromSecretNameV2(scope, id, source.secret);
  const stack = Stack.of(scope);
  return secretsmanager.Secret.fromSecretAttributes(scope, id, {
    secretPartialArn: stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: source.secret,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    encryptionKey,
  });
}

export class SourceExtractJobs extends Construct {
  /** The job of each configured source (absent sources have none). */
  readonly jobs: Readonly<Partial<Record<ExtractSource, SourceExtractJob>>>;

  constructor(scope: Construct, id: string, props: SourceExtractJobsProps) {
    super(scope, id);
    const { config } = props;
    const configured = EXTRACT_SOURCES.filter((s) => config.sources[s] !== undefined);
    const jobs: Partial<Record<ExtractSource, SourceExtractJob>> = {};
    this.jobs = jobs;
    if (configured.length === 0) return;

    const stack = Stack.of(this);
    // Job bookmarks and the jobs' CloudWatch logs are encrypted with a key of their own.
    const key = secureKey(this, 'ExtractKey', config, {
      description: `shoplake ${config.stage} extract job logs and bookmarks`,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptsGlueJobLogs',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    const securityConfiguration = new glue.SecurityConfiguration(this, 'SecurityConfiguration', {
      s3Encryption: glue.S3Encryption.kms(props.lakeKey),
      cloudWatchEncryption: glue.CloudWatchEncryption.kms(key),
      jobBookmarksEncryption: glue.JobBookmarksEncryption.clientSideKms(key),
    });
    // Assets bound through Code.fromBucket grant each role read on these two objects only (a
    // Code.fromAsset grant covers the whole assets bucket). The package directory becomes a zip
    // asset with `shoplake_glue/…` at its root.
    const scriptAsset = new s3assets.Asset(this, 'ExtractScript', { path: EXTRACT_SCRIPT_PATH });
    const libAsset = new s3assets.Asset(this, 'ExtractLib', { path: EXTRACT_LIB_PATH });
    const script = glue.Code.fromBucket(scriptAsset.bucket, scriptAsset.s3ObjectKey);
    const lib = glue.Code.fromBucket(libAsset.bucket, libAsset.s3ObjectKey);

    for (const source of configured) {
      const sourceConfig = config.sources[source];
      if (!sourceConfig) continue;
      jobs[source] = this.sourceJob(source, sourceConfig, props, {
        key,
        securityConfiguration,
        script,
        lib,
      });
    }
  }

  private sourceJob(
    source: ExtractSource,
    sourceConfig: ExtractSourceConfig,
    props: SourceExtractJobsProps,
    shared: {
      key: kms.Key;
      securityConfiguration: glue.SecurityConfiguration;
      script: glue.Code;
      lib: glue.Code;
    },
  ): SourceExtractJob {
    const { config } = props;
    const stack = Stack.of(this);
    const name = pascalCase(source);
    const secret = importSourceSecret(this, `${name}Secret`, sourceConfig);
    const securityGroups = sourceConfig.securityGroupIds.map((sgId, i) =>
      ec2.SecurityGroup.fromSecurityGroupId(this, `${name}SecurityGroup${i + 1}`, sgId, { mutable: false }),
    );
    const connections = sourceConfig.subnets.map(
      (subnet, i) =>
        new glue.Connection(this, `${name}Connection${i + 1}`, {
          type: glue.ConnectionType.JDBC,
          description: `shoplake ${config.stage}: the ${source} database (${subnet.availabilityZone})`,
          properties: {
            JDBC_CONNECTION_URL: sourceConfig.jdbcUrl,
            // Glue refuses the connection unless the server presents a valid TLS certificate.
            JDBC_ENFORCE_SSL: 'true',
            // The secret as configured (name or ARN): Glue resolves it at run time, no value here.
            SECRET_ID: sourceConfig.secret,
          },
          securityGroups,
          network: glue.ConnectionNetwork.subnet(
            ec2.Subnet.fromSubnetAttributes(this, `${name}Subnet${i + 1}`, {
              subnetId: subnet.subnetId,
              availabilityZone: subnet.availabilityZone,
            }),
          ),
        }),
    );

    for (const connection of connections) {
      Validations.of(connection).acknowledge({
        id: 'CloudFormation-Validate::W3010',
        reason:
          "A Glue connection's Availability Zone is required and must be the configured subnet's own (stage config), so it cannot come from Fn::GetAZs.",
      });
    }

    const role = new iam.Role(this, `${name}ExtractRole`, {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `shoplake ${config.stage}: Glue job extracting the ${source} database into bronze`,
    });
    const logGroup = stageLogGroup(this, `${name}ExtractLogs`, config, { encryptionKey: shared.key });
    const sizing = sourceConfig.job ?? DEFAULT_EXTRACT_JOB;
    const secretId = sourceConfig.secret;
    const job = new glue.PySparkEtlJob(this, `${name}ExtractJob`, {
      description: `shoplake ${config.stage}: glue-jobs/extract_job.py --source ${source} (the ${source} database into bronze Iceberg tables)`,
      role,
      script: shared.script,
      extraPythonFiles: [shared.lib],
      glueVersion: EXTRACT_GLUE_VERSION,
      workerConfiguration: {
        workerType: sizing.workerType as glue.WorkerType,
        numberOfWorkers: sizing.numberOfWorkers,
      },
      timeout: Duration.minutes(sizing.timeoutMinutes),
      maxConcurrentRuns: 1,
      // The state machine retries a failed run (GLUE_RETRY); Glue itself does not.
      maxRetries: 0,
      connections,
      securityConfiguration: shared.securityConfiguration,
      continuousLogging: { enabled: true, logGroup, quiet: true },
      defaultArguments: {
        [GLUE_JOB_ARGS.source]: source,
        [GLUE_JOB_ARGS.secretId]: secretId,
        [GLUE_JOB_ARGS.catalogName]: DEFAULT_SPARK_CATALOG,
        [GLUE_JOB_ARGS.bronzeDatabase]: props.bronzeDatabaseName,
        [GLUE_JOB_ARGS.opsDatabase]: props.opsDatabaseName,
        [GLUE_JOB_ARGS.warehouse]: props.warehouseUri,
        [GLUE_JOB_ARGS.extractMode]: DEFAULT_EXTRACT_MODE,
        '--datalake-formats': 'iceberg',
        '--enable-glue-datacatalog': 'true',
        '--conf': icebergSparkConf(DEFAULT_SPARK_CATALOG, props.warehouseUri),
        // Watermarks live in the lake's ops table, not in Glue job bookmarks.
        '--job-bookmark-option': 'job-bookmark-disable',
      },
    });

    this.grantJobAccess(role, sourceConfig, { secret, connections, logGroup, key: shared.key }, props);
    return { source, job, role, connections, secret, logGroup };
  }

  /** What the job's code and Glue (with the job role) call: nothing more. */
  private grantJobAccess(
    role: iam.Role,
    sourceConfig: ExtractSourceConfig,
    resources: {
      secret: secretsmanager.ISecret;
      connections: readonly glue.Connection[];
      logGroup: logs.LogGroup;
      key: kms.Key;
    },
    props: SourceExtractJobsProps,
  ): void {
    const stack = Stack.of(this);
    // The database credentials (the job and Glue's connection test read the secret).
    resources.secret.grantRead(role);
    // Bronze and ops Iceberg tables: data and metadata files under their warehouse prefixes.
    for (const ns of ['bronze', 'ops']) {
      const prefix = `${LAKE_PREFIXES.warehouse}${ns}/*`;
      props.lakeBucket.grantRead(role, prefix);
      props.lakeBucket.grantPut(role, prefix);
    }
    props.lakeKey.grantEncryptDecrypt(role);
    // The Glue catalog: the two databases and their tables (Iceberg commits update the table).
    const catalog = stack.formatArn({ service: 'glue', resource: 'catalog' });
    const databases = [props.bronzeDatabaseName, props.opsDatabaseName];
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: [
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetTables',
        'glue:CreateTable',
        'glue:UpdateTable',
      ],
      resourceArns: [
        catalog,
        ...databases.map((db) =>
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: db }),
        ),
        ...databases.map((db) =>
          stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${db}/*` }),
        ),
      ],
    });
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['glue:GetConnection'],
      resourceArns: [catalog, ...resources.connections.map((c) => c.connectionArn)],
    });
    // Network interfaces of the workers in the connection's subnet.
    iam.Grant.addToPrincipal({ grantee: role, actions: [...GLUE_VPC_DESCRIBE_ACTIONS], resourceArns: ['*'] });
    const eni = stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' });
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface'],
      resourceArns: [eni],
    });
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['ec2:CreateNetworkInterface'],
      resourceArns: [
        ...sourceConfig.subnets.map((s) =>
          stack.formatArn({ service: 'ec2', resource: 'subnet', resourceName: s.subnetId }),
        ),
        ...sourceConfig.securityGroupIds.map((sg) =>
          stack.formatArn({ service: 'ec2', resource: 'security-group', resourceName: sg }),
        ),
      ],
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: [eni],
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['aws-glue-service-resource'] } },
      }),
    );
    // Logs: the continuous-log group, and the /aws-glue/jobs/* groups Glue writes driver output to.
    resources.logGroup.grantWrite(role);
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
      resourceArns: [
        stack.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: '/aws-glue/jobs/*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    });
    resources.key.grantEncryptDecrypt(role);
    // Job metrics (--enable-metrics) in the Glue namespace only.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
      }),
    );
  }
}
