/**
 * `shoplake tables|etl --stage`: the real SDK clients (CloudFormation, Glue, S3, Step Functions)
 * against a local HTTP server that answers in each service's wire protocol (awsQuery XML,
 * JSON 1.1 / 1.0, REST-XML), so the module under test runs unmodified down to the HTTP request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  currentSnapshotOf,
  type DeployedClients,
  deployedClients,
  destroyClients,
  startAndFollow,
} from '../../local/deployed/stage.ts';

/** A snapshot id beyond 2^53: read as a number it would lose its last digits. */
const BIG_SNAPSHOT_ID = '8744736658442914487';

function metadata(currentSnapshot: string | null): string {
  const snapshots =
    currentSnapshot === null
      ? ''
      : `{"snapshot-id": 123, "timestamp-ms": 1764000000000, "summary": {"operation": "append", "total-records": "7", "total-data-files": "1"}},
         {"snapshot-id": ${currentSnapshot}, "parent-snapshot-id": 123, "timestamp-ms": 1764806400000, "summary": {"operation": "overwrite", "total-records": "1042", "total-data-files": "3"}}`;
  return `{"format-version": 2, "table-uuid": "0b6c2e6e-0000-4000-8000-000000000001", "location": "s3://lake/warehouse/bronze/t",
    "current-snapshot-id": ${currentSnapshot ?? -1}, "snapshots": [${snapshots}]}`;
}

const OBJECTS: Record<string, string> = {
  '/lake-bucket/warehouse/bronze/oltp_customers/metadata/00002-a.metadata.json': metadata(BIG_SNAPSHOT_ID),
  '/lake-bucket/warehouse/gold/daily_sales/metadata/00000-b.metadata.json': metadata(null),
};

interface Call {
  service: string;
  operation: string;
}

const calls: Call[] = [];
let executionPolls = 0;
let failExecution = false;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, type: string, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': type });
  res.end(JSON.stringify(body));
}

function xml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/xml' });
  res.end(body);
}

const STACK_OUTPUTS: Record<string, Record<string, string>> = {
  'Shoplake-dev-Storage': {
    LakeBucketName: 'lake-bucket',
    GlueDatabaseNames: 'shoplake_bronze,shoplake_gold',
  },
  'Shoplake-dev-Processing': {
    EtlStateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Etl',
    TrainStateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Train',
  },
};

function cloudFormation(res: ServerResponse, params: URLSearchParams): void {
  const name = params.get('StackName') ?? '';
  calls.push({ service: 'cloudformation', operation: params.get('Action') ?? '' });
  const outputs = STACK_OUTPUTS[name];
  if (!outputs) {
    xml(
      res,
      400,
      `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${name} does not exist</Message></Error><RequestId>r1</RequestId></ErrorResponse>`,
    );
    return;
  }
  const members = Object.entries(outputs)
    .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
    .join('');
  xml(
    res,
    200,
    `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${name}</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${name}/1</StackId><CreationTime>2026-12-01T00:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></DescribeStacksResponse>`,
  );
}

function glue(res: ServerResponse, operation: string, input: Record<string, unknown>): void {
  calls.push({ service: 'glue', operation });
  if (operation !== 'GetTables') {
    json(res, 'application/x-amz-json-1.1', 400, { __type: 'InvalidInputException', Message: operation });
    return;
  }
  const iceberg = (name: string, location: string) => ({
    Name: name,
    DatabaseName: input.DatabaseName,
    TableType: 'EXTERNAL_TABLE',
    Parameters: { table_type: 'ICEBERG', metadata_location: location },
  });
  if (input.DatabaseName === 'shoplake_bronze' && input.NextToken === undefined) {
    // First page: one table and a token for the next.
    json(res, 'application/x-amz-json-1.1', 200, {
      TableList: [
        iceberg(
          'oltp_customers',
          's3://lake-bucket/warehouse/bronze/oltp_customers/metadata/00002-a.metadata.json',
        ),
      ],
      NextToken: 'page-2',
    });
    return;
  }
  if (input.DatabaseName === 'shoplake_bronze') {
    json(res, 'application/x-amz-json-1.1', 200, {
      TableList: [
        iceberg(
          'oltp_orders',
          's3://lake-bucket/warehouse/bronze/oltp_orders/metadata/00009-gone.metadata.json',
        ),
        { Name: 'legacy_csv', DatabaseName: 'shoplake_bronze', TableType: 'EXTERNAL_TABLE', Parameters: {} },
      ],
    });
    return;
  }
  json(res, 'application/x-amz-json-1.1', 200, {
    TableList: [
      iceberg('daily_sales', 's3://lake-bucket/warehouse/gold/daily_sales/metadata/00000-b.metadata.json'),
    ],
  });
}

function s3(req: IncomingMessage, res: ServerResponse): void {
  const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
  calls.push({ service: 's3', operation: `GET ${path}` });
  const body = OBJECTS[path];
  if (body === undefined) {
    xml(
      res,
      404,
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
    );
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function stepFunctions(res: ServerResponse, operation: string, input: Record<string, unknown>): void {
  calls.push({ service: 'sfn', operation });
  const type = 'application/x-amz-json-1.0';
  const arn = 'arn:aws:states:us-east-1:123456789012:execution:Etl:cli-1';
  if (operation === 'StartExecution') {
    json(res, type, 200, { executionArn: arn, startDate: 1764806400 });
    return;
  }
  if (operation === 'GetExecutionHistory') {
    const events = [
      { id: 1, timestamp: 1764806400, type: 'ExecutionStarted' },
      {
        id: 2,
        timestamp: 1764806401,
        type: 'TaskStateEntered',
        stateEnteredEventDetails: { name: 'PrepareRun' },
      },
      ...(executionPolls > 0
        ? [
            {
              id: 3,
              timestamp: 1764806402,
              type: 'ChoiceStateEntered',
              stateEnteredEventDetails: { name: 'ExtractOltpChoice' },
            },
          ]
        : []),
    ];
    json(res, type, 200, { events });
    return;
  }
  if (operation === 'DescribeExecution') {
    executionPolls++;
    const done = executionPolls >= 2 || failExecution;
    json(res, type, 200, {
      executionArn: input.executionArn,
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Etl',
      status: done ? (failExecution ? 'FAILED' : 'SUCCEEDED') : 'RUNNING',
      startDate: 1764806400,
      ...(done ? { stopDate: 1764806460 } : {}),
      ...(done && !failExecution ? { output: '{"run":{"run_id":"cli-1"}}' } : {}),
      ...(failExecution ? { error: 'EtlFailed', cause: 'An ETL step failed' } : {}),
    });
    return;
  }
  json(res, type, 400, { __type: 'InvalidArn', message: operation });
}

let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target.startsWith('AWSGlue.')) {
        glue(res, target.slice('AWSGlue.'.length), JSON.parse(body) as Record<string, unknown>);
      } else if (target.startsWith('AWSStepFunctions.')) {
        stepFunctions(
          res,
          target.slice('AWSStepFunctions.'.length),
          JSON.parse(body) as Record<string, unknown>,
        );
      } else if (req.method === 'POST' && body.includes('Action=')) {
        cloudFormation(res, new URLSearchParams(body));
      } else if (req.method === 'GET') {
        s3(req, res);
      } else {
        res.writeHead(400).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Environment of a CLI pointed at the stub: endpoint, region, static test credentials. */
function stubEnv(): void {
  vi.stubEnv('AWS_ENDPOINT_URL', endpoint);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('AWS_PROFILE', '');
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/shoplake-test-config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/shoplake-test-credentials');
}

/** The CLI in this process (the shared capture helper), imported after the env above is stubbed. */
async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { cli } = await import('../integration/helpers/cli.ts');
  return cli(argv);
}

describe('currentSnapshotOf (Iceberg metadata JSON)', () => {
  it('reads the current snapshot with its 64-bit id exact and the summary counts', () => {
    expect(currentSnapshotOf(metadata(BIG_SNAPSHOT_ID))).toEqual({
      formatVersion: 2,
      snapshotId: BIG_SNAPSHOT_ID,
      snapshotAt: '2025-12-04T00:00:00.000Z',
      rows: 1042,
      files: 3,
    });
  });

  it('has no snapshot before the first commit, and rejects a dangling current snapshot', () => {
    expect(currentSnapshotOf(metadata(null))).toEqual({ formatVersion: 2 });
    expect(() =>
      currentSnapshotOf(metadata(BIG_SNAPSHOT_ID).replace('"snapshot-id": 8744', '"snapshot-id": 9744')),
    ).toThrow(/current-snapshot-id 8744736658442914487 is not in snapshots/);
    expect(() => currentSnapshotOf('{"tables": []}')).toThrow(/not an Iceberg table metadata file/);
  });
});

describe('shoplake tables --stage (SDK clients against an HTTP stub)', () => {
  it('lists every Glue table of the stage databases (paginated) with metadata location and current snapshot', async () => {
    stubEnv();
    calls.length = 0;
    try {
      const { code, stdout, stderr } = await runCli(['tables', '--stage', 'dev', '--json']);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const result = JSON.parse(stdout) as { stage: string; tables: Record<string, unknown>[] };
      expect(result.stage).toBe('dev');
      expect(result.tables).toEqual([
        {
          table: 'shoplake_bronze.legacy_csv',
          format: 'EXTERNAL_TABLE',
          status: 'not-iceberg',
        },
        {
          table: 'shoplake_bronze.oltp_customers',
          format: 'ICEBERG',
          status: 'ok',
          metadataLocation: 's3://lake-bucket/warehouse/bronze/oltp_customers/metadata/00002-a.metadata.json',
          formatVersion: 2,
          snapshotId: BIG_SNAPSHOT_ID,
          snapshotAt: '2025-12-04T00:00:00.000Z',
          rows: 1042,
          files: 3,
        },
        {
          table: 'shoplake_bronze.oltp_orders',
          format: 'ICEBERG',
          status: 'damaged',
          metadataLocation: 's3://lake-bucket/warehouse/bronze/oltp_orders/metadata/00009-gone.metadata.json',
          error: expect.stringMatching(/does not exist|NoSuchKey/),
        },
        {
          table: 'shoplake_gold.daily_sales',
          format: 'ICEBERG',
          status: 'ok',
          metadataLocation: 's3://lake-bucket/warehouse/gold/daily_sales/metadata/00000-b.metadata.json',
          formatVersion: 2,
        },
      ]);
      // Databases came from the Storage stack's output; bronze was read in two pages.
      expect(calls.filter((c) => c.service === 'cloudformation')).toEqual([
        { service: 'cloudformation', operation: 'DescribeStacks' },
      ]);
      expect(calls.filter((c) => c.service === 'glue')).toHaveLength(3);
      expect(calls.filter((c) => c.service === 's3').map((c) => c.operation)).toContain(
        'GET /lake-bucket/warehouse/bronze/oltp_customers/metadata/00002-a.metadata.json',
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('renders a table for people, flagging damaged tables', async () => {
    stubEnv();
    try {
      const { code, stdout } = await runCli(['tables', '--stage', 'dev']);
      expect(code).toBe(0);
      expect(stdout).toContain(BIG_SNAPSHOT_ID);
      expect(stdout).toMatch(/DAMAGED shoplake_bronze\.oltp_orders: /);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('fails clearly (exit 1) for a stage that is not deployed', async () => {
    stubEnv();
    try {
      const { code, stderr } = await runCli(['tables', '--stage', 'prod']);
      expect(code).toBe(1);
      expect(stderr).toMatch(
        /stack Shoplake-prod-Storage of stage prod is not deployed .*does not exist.*cdk deploy --all -c stage=prod/,
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('deployed executions (Step Functions over the HTTP stub)', () => {
  let clients: DeployedClients;
  beforeAll(() => {
    stubEnv();
    clients = deployedClients();
  });
  afterAll(() => {
    destroyClients(clients);
    vi.unstubAllEnvs();
  });

  it('starts the ETL state machine named by the stack output and follows it to the end, each state once', async () => {
    executionPolls = 0;
    failExecution = false;
    calls.length = 0;
    const entered: string[] = [];
    const result = await startAndFollow(
      clients,
      'dev',
      'etlStateMachine',
      { full: true },
      {
        pollMs: 1,
        onState: (s) => entered.push(s),
      },
    );
    expect(result).toMatchObject({
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Etl:cli-1',
      status: 'SUCCEEDED',
      states: ['PrepareRun', 'ExtractOltpChoice'],
      output: { run: { run_id: 'cli-1' } },
    });
    expect(entered).toEqual(['PrepareRun', 'ExtractOltpChoice']);
    expect(calls.filter((c) => c.operation === 'DescribeExecution')).toHaveLength(2);
  });

  it('etl --stage exits 1 with the error and cause of a failed execution', async () => {
    stubEnv();
    executionPolls = 0;
    failExecution = true;
    try {
      const { code, stdout, stderr } = await runCli([
        'etl',
        '--stage',
        'dev',
        '--date',
        '2026-12-01',
        '--json',
      ]);
      expect(code).toBe(1);
      // one JSON document: the error, carrying the execution
      expect(JSON.parse(stdout)).toMatchObject({
        error: {
          code: 'execution_failed',
          exit_code: 1,
          execution_arn: 'arn:aws:states:us-east-1:123456789012:execution:Etl:cli-1',
          status: 'FAILED',
          error: 'EtlFailed',
          cause: 'An ETL step failed',
          states: ['PrepareRun'],
        },
      });
      expect(stderr).toContain('PrepareRun');
      expect(stderr).toMatch(/ended FAILED: EtlFailed/);
    } finally {
      failExecution = false;
      vi.unstubAllEnvs();
    }
  });
});
