/**
 * End-to-end on the CDK app deployed to LocalStack (`scripts/localstack/e2e.sh`: the pinned CDK
 * CLI's `cdk bootstrap` and `cdk deploy --all` of a uniquely named copy of the dev stage).
 * Everything here goes through the deployed resources: API Gateway with API keys → ingest
 * Lambda → Kinesis → event-source mapping → consumer Lambda → DynamoDB; quarantine objects in
 * S3; the consumer's SQS on-failure destination; the training task Lambdas publishing a model
 * into the deployed tables, served through API Gateway; the ETL state machine up to its first
 * Athena step (LocalStack Community has no Athena). Lambdas run on the host's Node through
 * the project's host-node executor plugin (scripts/localstack/host-lambda/).
 */
import { randomUUID } from 'node:crypto';
import { APIGatewayClient, GetApiKeyCommand } from '@aws-sdk/client-api-gateway';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  paginateListStackResources,
} from '@aws-sdk/client-cloudformation';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import {
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { beforeAll, describe, expect, it } from 'vitest';
import { documentClient, dynamoClient } from '../../lambdas/shared/aws-clients.ts';
import { DynamoFeatureStore } from '../../lambdas/shared/features/dynamo-store.ts';
import { getRecentItems } from '../../lambdas/shared/features/read.ts';
import { interactionsFromEvents, interactionsToCsv } from '../../lambdas/shared/recommender/data.ts';
import { prepareRun } from '../../lambdas/training/pipeline.ts';
import { generateShop } from '../../local/generator/shop.ts';

const endpoint = process.env.AWS_ENDPOINT_URL;
const stage = process.env.SHOPLAKE_E2E_STAGE;
if (!endpoint || !stage) {
  throw new Error(
    'test/localstack runs against stacks deployed to LocalStack: run `npm run test:localstack` (scripts/localstack/e2e.sh sets AWS_ENDPOINT_URL and SHOPLAKE_E2E_STAGE)',
  );
}
const run = randomUUID().slice(0, 8);
const config = { maxAttempts: 3, requestHandler: new NodeHttpHandler({ requestTimeout: 60_000 }) };
const cfn = new CloudFormationClient(config);
const lambda = new LambdaClient(config);
const s3 = new S3Client({ ...config, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
const sqs = new SQSClient(config);
const sfn = new SFNClient(config);
const kinesis = new KinesisClient(config);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let wait = 250; Date.now() < deadline; wait = Math.min(wait * 2, 3_000)) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error: unknown) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, wait));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Physical ids of a deployed stack's resources by logical id, and its outputs. */
async function stack(concern: string) {
  const name = `Shoplake-${stage}-${concern}`;
  const resources: { logicalId: string; physicalId: string; type: string }[] = [];
  for await (const page of paginateListStackResources({ client: cfn }, { StackName: name }))
    for (const r of page.StackResourceSummaries ?? [])
      resources.push({
        logicalId: r.LogicalResourceId ?? '',
        physicalId: r.PhysicalResourceId ?? '',
        type: r.ResourceType ?? '',
      });
  const described = await cfn.send(new DescribeStacksCommand({ StackName: name }));
  const outputs = Object.fromEntries(
    (described.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
  );
  const find = (type: string, prefix: string) => {
    const hit = resources.find((r) => r.type === type && r.logicalId.startsWith(prefix));
    if (!hit) throw new Error(`${name} has no ${type} ${prefix}*`);
    return hit.physicalId;
  };
  return { name, outputs, find };
}

let api: { base: string; writeKey: string; readKey: string };
let lake: string;
let featuresTable: string;
let consumerFunction: string;
let eventsStream: string;
let failureQueueUrl: string;
let etlMachine: string;
let tasks: Record<'train' | 'publish' | 'activate', string>;

beforeAll(async () => {
  const [storage, serving, ingestion, apiStack, processing] = await Promise.all(
    ['Storage', 'Serving', 'Ingestion', 'Api', 'Processing'].map(stack),
  );
  if (!storage || !serving || !ingestion || !apiStack || !processing) throw new Error('stacks missing');
  const apigw = new APIGatewayClient(config);
  const keyValue = async (id: string | undefined) =>
    (await apigw.send(new GetApiKeyCommand({ apiKey: id, includeValue: true }))).value ?? '';
  // https://<api id>.execute-api.<host>/<stage>/ → LocalStack's path form of the same stage.
  const url = /^https?:\/\/([^.]+)\.execute-api\.[^/]+\/([^/]+)\//.exec(apiStack.outputs.ApiUrl ?? '');
  if (!url) throw new Error(`unexpected ApiUrl ${apiStack.outputs.ApiUrl}`);
  api = {
    base: `${endpoint}/_aws/execute-api/${url[1]}/${url[2]}`,
    writeKey: await keyValue(apiStack.outputs.WriteApiKeyId),
    readKey: await keyValue(apiStack.outputs.ReadApiKeyId),
  };
  lake = storage.find('AWS::S3::Bucket', 'LakeBucket');
  featuresTable = serving.find('AWS::DynamoDB::Table', 'FeaturesTable');
  consumerFunction = ingestion.find('AWS::Lambda::Function', 'StreamConsumerFunction');
  eventsStream = ingestion.find('AWS::Kinesis::Stream', 'EventsStream');
  const queueName = ingestion.find('AWS::SQS::Queue', 'ConsumerFailureQueue');
  failureQueueUrl = queueName.startsWith('http')
    ? queueName
    : ((await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl ?? '');
  etlMachine = processing.find('AWS::StepFunctions::StateMachine', 'EtlStateMachine');
  tasks = {
    train: processing.find('AWS::Lambda::Function', 'TrainingTrainFunction'),
    publish: processing.find('AWS::Lambda::Function', 'TrainingPublishFunction'),
    activate: processing.find('AWS::Lambda::Function', 'TrainingActivateFunction'),
  };
});

async function call(method: 'GET' | 'POST', path: string, options: { key?: string; body?: unknown } = {}) {
  const res = await fetch(`${api.base}${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.key ? { 'x-api-key': options.key } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, body: json };
}

const user = `u-e2e-${run}`;
const session = `s-e2e-${run}`;
const products = [1, 2, 3].map((i) => `p-e2e-${run}-${i}`);
function view(product: string, secondsAgo: number) {
  return {
    event_id: `e2e-${run}-${randomUUID()}`,
    event_type: 'product_view',
    event_time: new Date(Date.now() - secondsAgo * 1000).toISOString(),
    session_id: session,
    user_id: user,
    product_id: product,
    category: 'E2E',
    price: 9.99,
  };
}

async function invoke(fn: string, payload: unknown): Promise<Record<string, unknown>> {
  const res = await lambda.send(
    new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const text = Buffer.from(res.Payload ?? new Uint8Array()).toString('utf8');
  if (res.FunctionError) throw new Error(`${fn} failed: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

describe(`deployed shoplake (${stage}) on LocalStack`, () => {
  it('accepts events through API Gateway with the write key and refuses them without a key', async () => {
    const events = [view(products[0] ?? '', 30), view(products[1] ?? '', 20), view(products[1] ?? '', 10)];
    const refused = await call('POST', '/events', { body: { events } });
    expect(refused.status).toBe(403);
    const accepted = await call('POST', '/events', { key: api.writeKey, body: { events } });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body).toMatchObject({ accepted: 3, rejected: 0, failed: 0 });
  });

  it("maintains the consumer's features in DynamoDB (recent items of the user)", async () => {
    const store = new DynamoFeatureStore({
      client: documentClient(dynamoClient()),
      tableName: featuresTable,
    });
    const recent = await until('the recent items of the user', async () => {
      const items = await getRecentItems(store, { userId: user });
      return items.length >= 3 ? items : undefined;
    });
    // Newest first, one entry per view.
    expect(recent.map((r) => r.product_id)).toEqual([products[1], products[1], products[0]]);
  });

  it('serves trending products through API Gateway with the read key', async () => {
    expect((await call('GET', '/trending?window=5m')).status).toBe(403);
    const trending = await until('our products in /trending', async () => {
      const res = await call('GET', '/trending?window=5m&category=E2E&k=10', { key: api.readKey });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const text = JSON.stringify(res.body);
      return text.includes(products[1] ?? '?') ? res.body : undefined;
    });
    const items = (trending.items ?? []) as { product_id: string }[];
    expect(items[0]?.product_id).toBe(products[1]);
  });

  it('quarantines a rejected event in the lake bucket with its reason', async () => {
    const bad = { ...view(products[2] ?? '', 5), event_time: undefined };
    const res = await call('POST', '/events', { key: api.writeKey, body: { events: [bad] } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 0, rejected: 1 });
    const body = await until('the quarantine object', async () => {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: lake, Prefix: 'quarantine/' }));
      for (const o of listed.Contents ?? []) {
        const got = await s3.send(new GetObjectCommand({ Bucket: lake, Key: o.Key }));
        const text = (await got.Body?.transformToString()) ?? '';
        if (text.includes(bad.event_id)) return text;
      }
      return undefined;
    });
    expect(body).toContain('missing_field');
  });

  it('publishes a model with the deployed training tasks and serves it through API Gateway', async () => {
    const shop = generateShop({
      seed: 7,
      events: 6_000,
      users: 300,
      products: 80,
      days: 7,
      end: Date.now() - 3_600_000,
    });
    const parsed = interactionsFromEvents(shop.events());
    const key = `athena-results/e2e-${run}/interactions.csv`;
    await s3.send(
      new PutObjectCommand({ Bucket: lake, Key: key, Body: interactionsToCsv(parsed.interactions) }),
    );
    const version = `e2e-${run}`;
    const runConfig = prepareRun({ version }, new Date());
    const trained = await invoke(tasks.train, {
      run: runConfig,
      interactionsUri: `s3://${lake}/${key}`,
      snapshots: { 'ml.interactions': 'e2e' },
    });
    expect(trained.gate, JSON.stringify(trained)).toMatchObject({ passed: true });
    const published = await invoke(tasks.publish, { version, artifactUri: trained.artifactUri });
    expect(published.items).toBeGreaterThan(0);
    await invoke(tasks.activate, { version });

    const someUser = parsed.interactions.find((i) => !i.user.startsWith('session:'))?.user ?? '';
    // A warm serving container caches the active pointer for a few seconds (activeCacheMs), so
    // the new version is served once that cache has expired, not necessarily on the first call.
    const recs = await until(
      `recommendations from ${version}`,
      async () => {
        const res = await call('GET', `/users/${encodeURIComponent(someUser)}/recommendations?k=5`, {
          key: api.readKey,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return res.body.model_version === version ? res : undefined;
      },
      30_000,
    );
    expect(recs.body).toMatchObject({ model_version: version, strategy: 'personalized' });
    expect((recs.body.items as unknown[]).length).toBeGreaterThan(0);
    const item = shop.products[0]?.product_id ?? '';
    const similar = await call('GET', `/items/${encodeURIComponent(item)}/similar?k=5`, { key: api.readKey });
    expect(similar.status, JSON.stringify(similar.body)).toBe(200);
    expect(similar.body.model_version).toBe(version);
  });

  it('sends a record the consumer cannot process to its SQS on-failure destination', async () => {
    // A consumer that cannot write (its features table renamed to a missing one) fails the
    // batch; after the event-source mapping's retries the record goes to the on-failure queue.
    const before = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: consumerFunction }));
    const variables = { ...(before.Environment?.Variables ?? {}) };
    const setTable = async (table: string) => {
      await lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: consumerFunction,
          Environment: { Variables: { ...variables, FEATURES_TABLE_NAME: table } },
        }),
      );
      await until('the consumer update', async () => {
        const c = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: consumerFunction }));
        return c.LastUpdateStatus === 'Successful' ? c : undefined;
      });
    };
    await setTable(`missing-${run}`);
    const poison = view(products[2] ?? '', 1);
    try {
      const put = await kinesis.send(
        new PutRecordCommand({
          StreamName: eventsStream,
          PartitionKey: poison.session_id,
          Data: Buffer.from(JSON.stringify(poison)),
        }),
      );
      const message = await until(
        'the on-failure message',
        async () => {
          const got = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: failureQueueUrl,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
            }),
          );
          for (const m of got.Messages ?? []) {
            await sqs.send(
              new DeleteMessageCommand({ QueueUrl: failureQueueUrl, ReceiptHandle: m.ReceiptHandle }),
            );
            if ((m.Body ?? '').includes(put.SequenceNumber ?? '?')) return JSON.parse(m.Body ?? '{}');
          }
          return undefined;
        },
        240_000,
      );
      expect(message.requestContext?.condition).toBe('RetryAttemptsExhausted');
      expect(message.KinesisBatchInfo?.streamArn).toContain(eventsStream);
    } finally {
      await setTable(variables.FEATURES_TABLE_NAME ?? featuresTable);
    }
  });

  it('runs the deployed ETL state machine to its first Athena step', async () => {
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: etlMachine }));
    const definition = JSON.parse(described.definition ?? '{}') as {
      States: Record<string, { Type: string; Resource?: string }>;
    };
    const athenaStates = Object.entries(definition.States)
      .filter(([, s]) => s.Type === 'Task' && (s.Resource ?? '').startsWith('arn:aws:states:::athena:'))
      .map(([name]) => name);
    expect(athenaStates.length).toBeGreaterThan(0);
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: etlMachine,
        name: `e2e-${run}`,
        input: JSON.stringify({ date: '2026-11-21' }),
      }),
    );
    const arn = started.executionArn ?? '';
    try {
      const history = await until('the execution to reach the first Athena step', async () => {
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
        if (d.status === 'RUNNING') return undefined;
        return (
          (await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, maxResults: 500 }))).events ??
          []
        );
      });
      // PrepareRun ran on the deployed Lambda and succeeded…
      const lambdaDone = history.find(
        (e) => e.type === 'TaskSucceeded' && e.taskSucceededEventDetails?.resourceType === 'lambda',
      );
      const output = JSON.parse(lambdaDone?.taskSucceededEventDetails?.output ?? '{}') as {
        Payload?: Record<string, unknown>;
      };
      expect(output.Payload).toMatchObject({ run_id: `e2e-${run}`, run_date: '2026-11-21' });
      // …then the machine stops where LocalStack Community stops: the first Athena `.sync` task.
      const failed = history.find((e) => e.type === 'ExecutionFailed' || e.type === 'TaskFailed');
      const cause = failed?.executionFailedEventDetails?.cause ?? failed?.taskFailedEventDetails?.cause ?? '';
      expect(cause).toContain('arn:aws:states:::athena:startQueryExecution.sync');
    } finally {
      const status = (await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status;
      if (status === 'RUNNING') await sfn.send(new StopExecutionCommand({ executionArn: arn }));
    }
  });
});
