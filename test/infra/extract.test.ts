/**
 * The Glue extract jobs of a stage's batch sources: connections (JDBC URL, subnets, security
 * groups, SSL, secret by reference), Glue 5.0 jobs (script and package assets, Iceberg, the
 * Glue catalog as Spark catalog, sizing, timeout, one run at a time, continuous logging), their
 * least-privilege roles, the ETL state machine's extract steps, the stack outputs the CLI reads,
 * and that no template holds a secret value. cdk-nag runs on every synthesis here (helpers).
 */
import { describe, expect, it } from 'vitest';
import { resolveStageConfig, StageConfigError } from '../../infra/config/index.ts';
import { DEFAULT_EXTRACT_JOB } from '../../infra/config/stage-config.ts';
import type { SynthesizedApp } from '../../infra/synth.ts';
import { NO_EXTRACT_JOB } from '../../lambdas/etl/definition.ts';
import { resourcesOfType, SOURCES_CONTEXT, synth, TEST_SOURCES } from './helpers.ts';

const dev = synth({ stage: 'dev' });
const both = synth({ stage: 'dev', context: SOURCES_CONTEXT });
const oltpOnly = synth({
  stage: 'dev',
  context: { sources: JSON.stringify({ oltp: TEST_SOURCES.oltp }) },
});

type Json = Record<string, unknown>;

function jobs(app: SynthesizedApp) {
  return resourcesOfType(app, 'AWS::Glue::Job');
}

/** The job of a source, by its `--source` default argument. */
function jobOf(app: SynthesizedApp, source: string) {
  const job = jobs(app).find((j) => (j.properties.DefaultArguments as Json)['--source'] === source);
  if (!job) throw new Error(`no Glue job for ${source}`);
  return job;
}

function etlMachine(app: SynthesizedApp): Json {
  const machine = resourcesOfType(app, 'AWS::StepFunctions::StateMachine').find((m) =>
    m.logicalId.startsWith('EtlStateMachine'),
  );
  if (!machine) throw new Error('no ETL state machine');
  return machine.properties;
}

function prepareRunEnv(app: SynthesizedApp): Json {
  const fn = resourcesOfType(app, 'AWS::Lambda::Function').find((f) =>
    f.logicalId.startsWith('EtlPrepareRunFunction'),
  );
  return ((fn?.properties.Environment as Json | undefined)?.Variables ?? {}) as Json;
}

/** Every statement of the inline policies attached to a role (by the role's logical id). */
function statementsOfRole(app: SynthesizedApp, roleLogicalId: string): Json[] {
  return resourcesOfType(app, 'AWS::IAM::Policy')
    .filter((p) => JSON.stringify(p.properties.Roles).includes(`"${roleLogicalId}"`))
    .flatMap((p) => (p.properties.PolicyDocument as { Statement: Json[] }).Statement);
}

const actionsOf = (s: Json): string[] => [s.Action].flat().map(String);

describe('a stage without batch sources', () => {
  it('has no Glue job, connection or security configuration', () => {
    expect(jobs(dev)).toHaveLength(0);
    expect(resourcesOfType(dev, 'AWS::Glue::Connection')).toHaveLength(0);
    expect(resourcesOfType(dev, 'AWS::Glue::SecurityConfiguration')).toHaveLength(0);
  });

  it('tells PrepareRun it has no sources and names no job in the ETL (the extract steps are skipped)', () => {
    expect(prepareRunEnv(dev).ETL_SOURCES).toBe('{"oltp":false,"marketing":false}');
    const subs = etlMachine(dev).DefinitionSubstitutions as Json;
    expect(subs.OltpExtractJobName).toBe(NO_EXTRACT_JOB);
    expect(subs.MarketingExtractJobName).toBe(NO_EXTRACT_JOB);
    const glueActions = resourcesOfType(dev, 'AWS::IAM::Policy').flatMap((p) =>
      (p.properties.PolicyDocument as { Statement: Json[] }).Statement.flatMap(actionsOf),
    );
    expect(glueActions.filter((a) => a.startsWith('glue:StartJobRun'))).toEqual([]);
  });
});

describe('a stage with the OLTP and marketing sources', () => {
  it('creates one Glue 5.0 job per source, sized by the stage config, one run at a time', () => {
    expect(jobs(both)).toHaveLength(2);
    const oltp = jobOf(both, 'oltp').properties;
    expect(oltp).toMatchObject({
      GlueVersion: '5.0',
      WorkerType: 'G.2X',
      NumberOfWorkers: 4,
      Timeout: 90,
      MaxRetries: 0,
      ExecutionProperty: { MaxConcurrentRuns: 1 },
      Command: { Name: 'glueetl', PythonVersion: '3' },
    });
    const marketing = jobOf(both, 'marketing').properties;
    expect(marketing).toMatchObject({
      GlueVersion: '5.0',
      WorkerType: DEFAULT_EXTRACT_JOB.workerType,
      NumberOfWorkers: DEFAULT_EXTRACT_JOB.numberOfWorkers,
      Timeout: DEFAULT_EXTRACT_JOB.timeoutMinutes,
      ExecutionProperty: { MaxConcurrentRuns: 1 },
    });
    expect(oltp.SecurityConfiguration).toBeDefined();
  });

  it('runs glue-jobs/extract_job.py with the glue-jobs/lib zip, Iceberg and the Glue catalog as Spark catalog', () => {
    const p = jobOf(both, 'oltp').properties;
    expect(JSON.stringify((p.Command as Json).ScriptLocation)).toMatch(/\.py"/);
    const args = p.DefaultArguments as Json;
    expect(JSON.stringify(args['--extra-py-files'])).toMatch(/\.zip"/);
    expect(args['--datalake-formats']).toBe('iceberg');
    expect(args['--enable-continuous-cloudwatch-log']).toBe('true');
    expect(args['--continuous-log-logGroup']).toBeDefined();
    const conf = JSON.stringify(args['--conf']);
    expect(conf).toContain('spark.sql.catalog.glue_catalog=org.apache.iceberg.spark.SparkCatalog');
    expect(conf).toContain(
      'spark.sql.catalog.glue_catalog.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog',
    );
    expect(conf).toContain('spark.sql.catalog.glue_catalog.warehouse=s3://');
    // The contract's arguments, with the secret by reference.
    expect(args).toMatchObject({
      '--source': 'oltp',
      '--secret_id': 'shoplake/oltp',
      '--catalog_name': 'glue_catalog',
      '--bronze_database': 'shoplake_bronze',
      '--ops_database': 'shoplake_ops',
      '--extract_mode': 'incremental',
    });
    expect(JSON.stringify(args['--warehouse'])).toContain('/warehouse/');
    expect((jobOf(both, 'marketing').properties.DefaultArguments as Json)['--secret_id']).toBe(
      TEST_SOURCES.marketing.secret,
    );
  });

  it('connects through one SSL-enforcing JDBC connection per configured subnet, with the given security groups', () => {
    const connections = resourcesOfType(both, 'AWS::Glue::Connection').map(
      (c) => c.properties.ConnectionInput as Json,
    );
    expect(connections).toHaveLength(3);
    const oltp = connections.filter(
      (c) => (c.ConnectionProperties as Json).JDBC_CONNECTION_URL === TEST_SOURCES.oltp.jdbcUrl,
    );
    expect(oltp.map((c) => c.PhysicalConnectionRequirements)).toEqual(
      TEST_SOURCES.oltp.subnets.map((s) => ({
        SubnetId: s.subnetId,
        AvailabilityZone: s.availabilityZone,
        SecurityGroupIdList: [...TEST_SOURCES.oltp.securityGroupIds],
      })),
    );
    for (const c of connections) {
      expect(c.ConnectionType).toBe('JDBC');
      const props = c.ConnectionProperties as Json;
      expect(props.JDBC_ENFORCE_SSL).toBe('true');
      expect(props.SECRET_ID).toMatch(
        /^(shoplake\/oltp|arn:aws:secretsmanager:.+shoplake\/marketing-AbCdEf)$/,
      );
      expect(Object.keys(props).sort()).toEqual(['JDBC_CONNECTION_URL', 'JDBC_ENFORCE_SSL', 'SECRET_ID']);
    }
    const job = jobOf(both, 'oltp').properties;
    expect(((job.Connections as Json).Connections as unknown[]).length).toBe(2);
  });

  it('gives each job role only its secret, the bronze/ops prefixes and databases, its network and logs', () => {
    const role = resourcesOfType(both, 'AWS::IAM::Role').find((r) =>
      r.logicalId.startsWith('SourceExtractOltpExtractRole'),
    );
    expect(role).toBeDefined();
    const statements = statementsOfRole(both, role?.logicalId ?? '');
    const text = JSON.stringify(statements);
    const actions = statements.flatMap(actionsOf);
    expect(actions.filter((a) => a.endsWith(':*') || a === '*')).toEqual([]);
    // the secret: read only, this source's only
    const secret = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
    expect(secret.flatMap(actionsOf).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(JSON.stringify(secret)).toContain(':secret:shoplake/oltp-??????');
    expect(text).not.toContain('shoplake/marketing');
    // lake objects only under warehouse/bronze and warehouse/ops (plus the two code assets)
    const objectResources = statements
      .filter((s) => actionsOf(s).some((a) => a.startsWith('s3:PutObject')))
      .flatMap((s) => [s.Resource].flat())
      .map((r) => JSON.stringify(r));
    expect(objectResources.length).toBeGreaterThan(0);
    for (const r of objectResources) expect(r).toMatch(/\/warehouse\/(bronze|ops)\/\*"/);
    expect(actions.some((a) => a.startsWith('s3:Delete'))).toBe(false);
    // Glue catalog: the bronze and ops databases and their tables, no deletes
    const glueStatements = statements.filter((s) => actionsOf(s).some((a) => a === 'glue:UpdateTable'));
    expect(JSON.stringify(glueStatements)).toContain('table/shoplake_bronze/*');
    expect(JSON.stringify(glueStatements)).toContain('table/shoplake_ops/*');
    expect(JSON.stringify(glueStatements)).not.toContain('shoplake_silver');
    expect(actions).not.toContain('glue:DeleteTable');
    // network interfaces only in the configured subnets and security groups
    expect(text).toContain(':subnet/subnet-0123456789abcdef0');
    expect(text).toContain(':security-group/sg-0123456789abcdef0');
    expect(text).not.toContain('sg-0a1b2c3d4e5f60718');
  });

  it('tells PrepareRun both sources exist and substitutes the job names into the ETL', () => {
    expect(prepareRunEnv(both).ETL_SOURCES).toBe('{"oltp":true,"marketing":true}');
    const subs = etlMachine(both).DefinitionSubstitutions as Json;
    expect(subs.OltpExtractJobName).toEqual({ Ref: jobOf(both, 'oltp').logicalId });
    expect(subs.MarketingExtractJobName).toEqual({ Ref: jobOf(both, 'marketing').logicalId });
  });

  it('lets the ETL state machine start, watch and stop exactly these jobs', () => {
    const machineRole = resourcesOfType(both, 'AWS::IAM::Role').find((r) =>
      r.logicalId.startsWith('EtlStateMachineRole'),
    );
    const statements = statementsOfRole(both, machineRole?.logicalId ?? '');
    const glue = statements.filter((s) => actionsOf(s).includes('glue:StartJobRun'));
    expect(glue).toHaveLength(1);
    expect(actionsOf(glue[0] as Json).sort()).toEqual([
      'glue:BatchStopJobRun',
      'glue:GetJobRun',
      'glue:GetJobRuns',
      'glue:StartJobRun',
    ]);
    const resources = JSON.stringify((glue[0] as Json).Resource);
    expect(resources).toContain(jobOf(both, 'oltp').logicalId);
    expect(resources).toContain(jobOf(both, 'marketing').logicalId);
    expect(resources).not.toContain('*');
    // the training machine gets no Glue job access
    const train = resourcesOfType(both, 'AWS::IAM::Role').find((r) =>
      r.logicalId.startsWith('TrainStateMachineRole'),
    );
    const trainActions = statementsOfRole(both, train?.logicalId ?? '').flatMap(actionsOf);
    expect(trainActions.filter((a) => a.startsWith('glue:StartJobRun'))).toEqual([]);
  });
});

describe('a stage with only the OLTP source', () => {
  it('has no marketing job; the ETL skips the marketing step', () => {
    expect(jobs(oltpOnly).map((j) => (j.properties.DefaultArguments as Json)['--source'])).toEqual(['oltp']);
    expect(prepareRunEnv(oltpOnly).ETL_SOURCES).toBe('{"oltp":true,"marketing":false}');
    const subs = etlMachine(oltpOnly).DefinitionSubstitutions as Json;
    expect(subs.MarketingExtractJobName).toBe(NO_EXTRACT_JOB);
    expect(subs.OltpExtractJobName).toEqual({ Ref: jobOf(oltpOnly, 'oltp').logicalId });
  });
});

describe('secrets', () => {
  it('no template holds a secret value: generated or referenced secrets only, no dynamic reference, no password', () => {
    for (const app of [dev, both, oltpOnly]) {
      // A secret shoplake creates has its value generated by Secrets Manager, never written here.
      for (const secret of resourcesOfType(app, 'AWS::SecretsManager::Secret')) {
        expect(secret.properties.SecretString, secret.logicalId).toBeUndefined();
        expect(secret.properties.GenerateSecretString, secret.logicalId).toBeDefined();
      }
      // The sources' secrets are referenced, not created.
      expect(
        resourcesOfType(app, 'AWS::SecretsManager::Secret').filter((r) => r.logicalId.includes('Extract')),
      ).toEqual([]);
      for (const [stack, template] of Object.entries(app.templates)) {
        const text = JSON.stringify(template);
        expect(text, stack).not.toMatch(/\{\{resolve:secretsmanager/);
        expect(text, stack).not.toMatch(/"(PASSWORD|USERNAME|password|SecretString)"/);
      }
    }
  });
});

describe('stack outputs the CLI reads', () => {
  it('names the lake bucket, the Glue databases, the state machines, the API URL and the extract jobs', () => {
    const outputs = (id: string) => Object.keys(both.templates[id]?.Outputs ?? {});
    expect(outputs('Storage')).toEqual(expect.arrayContaining(['LakeBucketName', 'GlueDatabaseNames']));
    expect(outputs('Processing')).toEqual(
      expect.arrayContaining([
        'EtlStateMachineArn',
        'TrainStateMachineArn',
        'OltpExtractJobName',
        'MarketingExtractJobName',
      ]),
    );
    expect(outputs('Api')).toContain('ApiUrl');
    expect(Object.keys(dev.templates.Processing?.Outputs ?? {})).not.toContain('OltpExtractJobName');
  });
});

describe('source configuration', () => {
  const context = (sources: unknown) => (key: string) =>
    key === 'stage' ? 'dev' : key === 'sources' ? sources : undefined;

  it('names each invalid field of a source', () => {
    const bad = {
      oltp: {
        ...TEST_SOURCES.oltp,
        jdbcUrl: 'jdbc:postgresql://user:secret@db/shop?password=x',
        subnets: [{ subnetId: 'subnet-xyz', availabilityZone: 'us-east-1' }],
        securityGroupIds: [],
        job: { workerType: 'G.1X', numberOfWorkers: 1, timeoutMinutes: 90 },
      },
    };
    try {
      resolveStageConfig(context(JSON.stringify(bad)));
      expect.unreachable('validation must fail');
    } catch (error: unknown) {
      expect(error).toBeInstanceOf(StageConfigError);
      const message = (error as Error).message;
      for (const field of [
        'sources.oltp.jdbcUrl',
        'sources.oltp.subnets.0.subnetId',
        'sources.oltp.subnets.0.availabilityZone',
        'sources.oltp.securityGroupIds',
        'sources.oltp.job.numberOfWorkers',
      ])
        expect(message).toContain(field);
    }
  });

  it('rejects unknown sources, malformed JSON and a secret that is not a name or ARN', () => {
    expect(() => resolveStageConfig(context('{"crm":{}}'))).toThrow(/sources/);
    expect(() => resolveStageConfig(context('{oltp'))).toThrow(/must be a JSON object/);
    expect(() =>
      resolveStageConfig(
        context(JSON.stringify({ oltp: { ...TEST_SOURCES.oltp, secret: '{"password":"x"}' } })),
      ),
    ).toThrow(/sources\.oltp\.secret: must be a Secrets Manager secret name or ARN/);
  });
});
