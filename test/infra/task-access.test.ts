/**
 * Least privilege per task Lambda: each state-machine task function's role allows exactly what
 * its own code calls (`TASK_ACCESS` in the processing stack), listed here action by action and
 * resource by resource from the synthesized template.
 */
import { describe, expect, it } from 'vitest';
import { taskLambdas } from '../../infra/definitions/task-functions.ts';
import { MissingTaskAccessError, TASK_ACCESS } from '../../infra/stacks/processing-stack.ts';
import { resourcesOfType, synth } from './helpers.ts';

const app = synth({ stage: 'dev' });

/** A resource ARN of the template in readable form: refs by logical id, imports by export. */
function readable(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  const o = value as Record<string, unknown>;
  if ('Ref' in o) return `{${String(o.Ref).replace(/[0-9A-F]{8}$/, '')}}`;
  if ('Fn::GetAtt' in o) {
    const [id, attr] = o['Fn::GetAtt'] as [string, string];
    return `{${id.replace(/[0-9A-F]{8}$/, '')}.${attr}}`;
  }
  if ('Fn::ImportValue' in o) {
    // Shoplake-dev-Storage:ExportsOutputFnGetAttLakeBucket9CD7BBD2ArnF3D61E7E → {Storage:LakeBucket.Arn}
    const name = String(o['Fn::ImportValue']);
    const m =
      /^Shoplake-[a-z0-9-]+?-([A-Za-z]+):ExportsOutput(Ref|FnGetAtt)([A-Za-z0-9]+?)(?:[0-9A-F]{8})?(Arn)?[0-9A-F]{8}$/.exec(
        name,
      );
    if (!m) return `{import ${name}}`;
    return `{${m[1]}:${m[3]}${m[4] ? '.Arn' : ''}}`;
  }
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(readable).join(sep);
  }
  return JSON.stringify(value);
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** `action resource` lines the role of a Lambda (by logical id) is allowed, sorted. */
function allowedOf(stack: string, functionId: string): string[] {
  const resources = app.templates[stack]?.Resources ?? {};
  const fn = resources[functionId];
  const roleRef = fn?.Properties?.Role as { 'Fn::GetAtt': [string, string] } | undefined;
  if (!roleRef) throw new Error(`${stack}/${functionId} has no role`);
  const role = roleRef['Fn::GetAtt'][0];
  const lines = new Set<string>();
  for (const policy of resourcesOfType(app, 'AWS::IAM::Policy').filter((p) => p.stack === stack)) {
    const roles = (policy.properties.Roles as { Ref: string }[]) ?? [];
    if (!roles.some((r) => r.Ref === role)) continue;
    const doc = policy.properties.PolicyDocument as { Statement: Statement[] };
    for (const st of doc.Statement) {
      expect(st.Effect).toBe('Allow');
      const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
      const targets = Array.isArray(st.Resource) ? st.Resource : [st.Resource];
      for (const a of actions) for (const r of targets) lines.add(`${a} ${readable(r)}`);
    }
  }
  return [...lines].sort();
}

/** Task functions of the processing stack by handler module (their description names it). */
const taskFunctions = new Map(
  resourcesOfType(app, 'AWS::Lambda::Function')
    .filter((f) => f.stack === 'Processing')
    .flatMap((f) => {
      const entry = /task: lambdas\/(.+)$/.exec(String(f.properties.Description))?.[1];
      return entry ? [[entry, f.logicalId] as const] : [];
    }),
);

/** What every function may do regardless of its code: traces, and logs into its own log group. */
function isBaseline(line: string, functionId: string): boolean {
  if (line === 'xray:PutTelemetryRecords *' || line === 'xray:PutTraceSegments *') return true;
  return /^logs:(CreateLogStream|PutLogEvents) /.test(line) && line.endsWith(` {${functionId}Logs.Arn}`);
}

function taskAllowed(entry: string): string[] {
  const id = taskFunctions.get(entry);
  if (!id)
    throw new Error(`no task function for lambdas/${entry}; have ${[...taskFunctions.keys()].join(', ')}`);
  return allowedOf('Processing', id).filter((line) => !isBaseline(line, id.replace(/[0-9A-F]{8}$/, '')));
}

/** Every task function's allowed `action resource` pairs (besides the baseline), in full. */
const EXPECTED: Record<string, string[]> = {
  'etl/handler.ts': [],
  'training/prepare.ts': [],
  'training/train.ts': [
    'athena:GetQueryExecution arn:{AWS::Partition}:athena:{AWS::Region}:{AWS::AccountId}:workgroup/shoplake-dev',
    'athena:GetQueryResults arn:{AWS::Partition}:athena:{AWS::Region}:{AWS::AccountId}:workgroup/shoplake-dev',
    'athena:StartQueryExecution arn:{AWS::Partition}:athena:{AWS::Region}:{AWS::AccountId}:workgroup/shoplake-dev',
    'dynamodb:GetItem {Serving:RecommendationsTable.Arn}',
    'dynamodb:PutItem {Serving:RecommendationsTable.Arn}',
    'glue:GetDatabase arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:catalog',
    'glue:GetDatabase arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_bronze',
    'glue:GetDatabase arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_gold',
    'glue:GetDatabase arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_ml',
    'glue:GetDatabase arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_ops',
    'glue:GetDatabase arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_silver',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:catalog',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_bronze',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_gold',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_ml',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_ops',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_silver',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:table/shoplake_bronze/*',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:table/shoplake_gold/*',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:table/shoplake_ml/*',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:table/shoplake_ops/*',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:table/shoplake_silver/*',
    'kms:Decrypt {Serving:TableKey.Arn}',
    'kms:Decrypt {Storage:LakeKey.Arn}',
    'kms:DescribeKey {Storage:LakeKey.Arn}',
    'kms:Encrypt {Serving:TableKey.Arn}',
    'kms:Encrypt {Storage:LakeKey.Arn}',
    'kms:GenerateDataKey* {Serving:TableKey.Arn}',
    'kms:GenerateDataKey* {Storage:LakeKey.Arn}',
    'kms:ReEncrypt* {Serving:TableKey.Arn}',
    'kms:ReEncrypt* {Storage:LakeKey.Arn}',
    's3:Abort* {Storage:LakeBucket.Arn}/athena-results/*',
    's3:Abort* {Storage:LakeBucket.Arn}/ml/models/*',
    's3:GetBucket* {Storage:LakeBucket.Arn}',
    's3:GetBucket* {Storage:LakeBucket.Arn}/athena-results/*',
    's3:GetBucket* {Storage:LakeBucket.Arn}/warehouse/*',
    's3:GetObject* {Storage:LakeBucket.Arn}',
    's3:GetObject* {Storage:LakeBucket.Arn}/athena-results/*',
    's3:GetObject* {Storage:LakeBucket.Arn}/warehouse/*',
    's3:List* {Storage:LakeBucket.Arn}',
    's3:List* {Storage:LakeBucket.Arn}/athena-results/*',
    's3:List* {Storage:LakeBucket.Arn}/warehouse/*',
    's3:PutObject {Storage:LakeBucket.Arn}/athena-results/*',
    's3:PutObject {Storage:LakeBucket.Arn}/ml/models/*',
    's3:PutObjectLegalHold {Storage:LakeBucket.Arn}/athena-results/*',
    's3:PutObjectLegalHold {Storage:LakeBucket.Arn}/ml/models/*',
    's3:PutObjectRetention {Storage:LakeBucket.Arn}/athena-results/*',
    's3:PutObjectRetention {Storage:LakeBucket.Arn}/ml/models/*',
    's3:PutObjectTagging {Storage:LakeBucket.Arn}/athena-results/*',
    's3:PutObjectTagging {Storage:LakeBucket.Arn}/ml/models/*',
    's3:PutObjectVersionTagging {Storage:LakeBucket.Arn}/athena-results/*',
    's3:PutObjectVersionTagging {Storage:LakeBucket.Arn}/ml/models/*',
  ],
  'training/publish.ts': [
    'dynamodb:BatchWriteItem {Serving:RecommendationsTable.Arn}',
    'dynamodb:GetItem {Serving:RecommendationsTable.Arn}',
    'dynamodb:PutItem {Serving:RecommendationsTable.Arn}',
    'kms:Decrypt {Serving:TableKey.Arn}',
    'kms:Decrypt {Storage:LakeKey.Arn}',
    'kms:DescribeKey {Storage:LakeKey.Arn}',
    'kms:Encrypt {Serving:TableKey.Arn}',
    'kms:GenerateDataKey* {Serving:TableKey.Arn}',
    'kms:ReEncrypt* {Serving:TableKey.Arn}',
    's3:GetBucket* {Storage:LakeBucket.Arn}',
    's3:GetBucket* {Storage:LakeBucket.Arn}/ml/models/*',
    's3:GetObject* {Storage:LakeBucket.Arn}',
    's3:GetObject* {Storage:LakeBucket.Arn}/ml/models/*',
    's3:List* {Storage:LakeBucket.Arn}',
    's3:List* {Storage:LakeBucket.Arn}/ml/models/*',
  ],
  'training/activate.ts': [
    'dynamodb:GetItem {Serving:RecommendationsTable.Arn}',
    'dynamodb:PutItem {Serving:RecommendationsTable.Arn}',
    'kms:Decrypt {Serving:TableKey.Arn}',
    'kms:Encrypt {Serving:TableKey.Arn}',
    'kms:GenerateDataKey* {Serving:TableKey.Arn}',
    'kms:ReEncrypt* {Serving:TableKey.Arn}',
  ],
  'forecast/prepare.ts': [],
  'forecast/register.ts': [
    'dynamodb:PutItem {Serving:RecommendationsTable.Arn}',
    'kms:Decrypt {Serving:TableKey.Arn}',
    'kms:Encrypt {Serving:TableKey.Arn}',
    'kms:GenerateDataKey* {Serving:TableKey.Arn}',
    'kms:ReEncrypt* {Serving:TableKey.Arn}',
  ],
  'forecast/activate.ts': [
    'dynamodb:GetItem {Serving:RecommendationsTable.Arn}',
    'dynamodb:PutItem {Serving:RecommendationsTable.Arn}',
    'kms:Decrypt {Serving:TableKey.Arn}',
    'kms:Encrypt {Serving:TableKey.Arn}',
    'kms:GenerateDataKey* {Serving:TableKey.Arn}',
    'kms:ReEncrypt* {Serving:TableKey.Arn}',
  ],
  'forecast/resolve.ts': [
    'dynamodb:GetItem {Serving:RecommendationsTable.Arn}',
    'kms:Decrypt {Serving:TableKey.Arn}',
    'kms:Encrypt {Serving:TableKey.Arn}',
    'kms:GenerateDataKey* {Serving:TableKey.Arn}',
    'kms:ReEncrypt* {Serving:TableKey.Arn}',
  ],
  'forecast/load.ts': [
    'athena:GetQueryExecution arn:{AWS::Partition}:athena:{AWS::Region}:{AWS::AccountId}:workgroup/shoplake-dev',
    'athena:GetQueryResults arn:{AWS::Partition}:athena:{AWS::Region}:{AWS::AccountId}:workgroup/shoplake-dev',
    'athena:StartQueryExecution arn:{AWS::Partition}:athena:{AWS::Region}:{AWS::AccountId}:workgroup/shoplake-dev',
    'glue:GetDatabase arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:catalog',
    'glue:GetDatabase arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_bronze',
    'glue:GetDatabase arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_gold',
    'glue:GetDatabase arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_ml',
    'glue:GetDatabase arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_ops',
    'glue:GetDatabase arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_silver',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:catalog',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_bronze',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_gold',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_ml',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_ops',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_silver',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:table/shoplake_bronze/*',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:table/shoplake_gold/*',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:table/shoplake_ml/*',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:table/shoplake_ops/*',
    'glue:GetTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:table/shoplake_silver/*',
    'glue:UpdateTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:catalog',
    'glue:UpdateTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:database/shoplake_gold',
    'glue:UpdateTable arn:{AWS::Partition}:glue:{AWS::Region}:{AWS::AccountId}:table/shoplake_gold/demand_forecast',
    'kms:Decrypt {Storage:LakeKey.Arn}',
    'kms:DescribeKey {Storage:LakeKey.Arn}',
    'kms:Encrypt {Storage:LakeKey.Arn}',
    'kms:GenerateDataKey* {Storage:LakeKey.Arn}',
    'kms:ReEncrypt* {Storage:LakeKey.Arn}',
    's3:Abort* {Storage:LakeBucket.Arn}/athena-results/*',
    's3:Abort* {Storage:LakeBucket.Arn}/warehouse/*',
    's3:GetBucket* {Storage:LakeBucket.Arn}',
    's3:GetBucket* {Storage:LakeBucket.Arn}/athena-results/*',
    's3:GetBucket* {Storage:LakeBucket.Arn}/ml/forecast/*',
    's3:GetBucket* {Storage:LakeBucket.Arn}/warehouse/*',
    's3:GetObject* {Storage:LakeBucket.Arn}',
    's3:GetObject* {Storage:LakeBucket.Arn}/athena-results/*',
    's3:GetObject* {Storage:LakeBucket.Arn}/ml/forecast/*',
    's3:GetObject* {Storage:LakeBucket.Arn}/warehouse/*',
    's3:List* {Storage:LakeBucket.Arn}',
    's3:List* {Storage:LakeBucket.Arn}/athena-results/*',
    's3:List* {Storage:LakeBucket.Arn}/ml/forecast/*',
    's3:List* {Storage:LakeBucket.Arn}/warehouse/*',
    's3:PutObject {Storage:LakeBucket.Arn}/athena-results/*',
    's3:PutObject {Storage:LakeBucket.Arn}/warehouse/*',
    's3:PutObjectLegalHold {Storage:LakeBucket.Arn}/athena-results/*',
    's3:PutObjectLegalHold {Storage:LakeBucket.Arn}/warehouse/*',
    's3:PutObjectRetention {Storage:LakeBucket.Arn}/athena-results/*',
    's3:PutObjectRetention {Storage:LakeBucket.Arn}/warehouse/*',
    's3:PutObjectTagging {Storage:LakeBucket.Arn}/athena-results/*',
    's3:PutObjectTagging {Storage:LakeBucket.Arn}/warehouse/*',
    's3:PutObjectVersionTagging {Storage:LakeBucket.Arn}/athena-results/*',
    's3:PutObjectVersionTagging {Storage:LakeBucket.Arn}/warehouse/*',
  ],
};

describe('task Lambdas: least privilege per function', () => {
  it('has an access declaration for exactly the task handlers the state machines use', () => {
    const handlers = Object.values(taskLambdas()).map((t) => t.entry);
    for (const entry of Object.keys(TASK_ACCESS)) expect(handlers).toContain(entry);
    expect([...taskFunctions.keys()].sort()).toEqual(Object.keys(TASK_ACCESS).sort());
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(TASK_ACCESS).sort());
  });

  for (const entry of Object.keys(EXPECTED)) {
    it(`lambdas/${entry} is allowed exactly what its code calls`, () => {
      expect(taskAllowed(entry)).toEqual(EXPECTED[entry]);
    });
  }

  it('gives the pure tasks (ETL PrepareRun, training Prepare) no access at all', () => {
    expect(taskAllowed('etl/handler.ts')).toEqual([]);
    expect(taskAllowed('training/prepare.ts')).toEqual([]);
  });

  it('grants no task a delete, a catalog write or the features table', () => {
    for (const entry of taskFunctions.keys()) {
      const lines = taskAllowed(entry);
      // The forecast load commits its Iceberg writes: glue:UpdateTable on gold.demand_forecast only.
      const allowed = (l: string) =>
        entry === 'forecast/load.ts' &&
        /^glue:UpdateTable .*(:catalog|database\/shoplake_gold|table\/shoplake_gold\/demand_forecast)$/.test(
          l,
        );
      expect(
        lines.filter(
          (l) => /s3:DeleteObject|glue:(Create|Update|Delete)Table|dynamodb:Delete/.test(l) && !allowed(l),
        ),
        entry,
      ).toEqual([]);
      expect(
        lines.filter((l) => l.includes('FeaturesTable')),
        entry,
      ).toEqual([]);
    }
  });

  it('lets the ETL lease release function (an EventBridge target) only delete the lease item', () => {
    const release = resourcesOfType(app, 'AWS::Lambda::Function').find(
      (f) => f.stack === 'Processing' && f.logicalId.startsWith('EtlReleaseLeaseFunction'),
    );
    expect(release).toBeDefined();
    const id = release?.logicalId ?? '';
    const lines = allowedOf('Processing', id).filter((l) => !isBaseline(l, id.replace(/[0-9A-F]{8}$/, '')));
    expect(lines.filter((l) => !l.startsWith('kms:'))).toEqual(['dynamodb:DeleteItem {EtlLeaseTable.Arn}']);
  });

  it('stops synthesis for a task handler without an access declaration', () => {
    expect(new MissingTaskAccessError('etl/new-task.ts').message).toMatch(
      /lambdas\/etl\/new-task.ts .*TASK_ACCESS/,
    );
  });
});
