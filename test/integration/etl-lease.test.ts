/**
 * One ETL run at a time on AWS: the state machine's lease states (AcquireLease's conditional put,
 * LeaseHeld → Skipped, ReleaseLease / ReleaseLeaseAfterFailure) run by the local ASL runner
 * against the DynamoDB emulator, with one lease table shared by the executions. Also the
 * EventBridge release handler (timed-out / aborted executions).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETL_LEASE_ID } from '../../lambdas/etl/prepare-run.ts';
import { releaseLease } from '../../lambdas/etl/release-lease.ts';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { type Emulator, startDynamoDbEmulator } from '../../local/runtime/emulators.ts';
import {
  createLeaseTable,
  EtlRunFailedError,
  type LocalEtlResult,
  runLocalEtl,
} from '../../local/sfn/etl-runner.ts';
import { writeLandingFiles } from '../../local/sfn/landing.ts';

const TABLE = 'shoplake-test-etl-lease';
const INPUT = { full: true, glueTableOptimizers: true } as never;

describe('ETL run lease (state machine + DynamoDB emulator)', () => {
  let emulator: Emulator;
  let client: DynamoDBClient;
  let dir: string;
  let lake: string;
  let engine: DuckdbEngine;

  const lockItem = async () =>
    (await client.send(new GetItemCommand({ TableName: TABLE, Key: { lock_id: { S: ETL_LEASE_ID } } }))).Item;

  beforeAll(async () => {
    emulator = await startDynamoDbEmulator();
    client = new DynamoDBClient({
      endpoint: emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await createLeaseTable(client, TABLE);
    dir = mkdtempSync(join(tmpdir(), 'shoplake-etl-lease-'));
    lake = join(dir, 'lake');
    writeLandingFiles(
      lake,
      generateShop({ seed: 3, events: 400, users: 40, products: 30, days: 10 }).events(),
    );
    engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
  });

  afterAll(async () => {
    await engine?.close();
    client?.destroy();
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('two executions: one holds the lease and runs, the other is skipped having written nothing', async () => {
    let second: LocalEtlResult | undefined;
    let heldBy: string | undefined;
    const first = await runLocalEtl({
      engine,
      lakeDir: lake,
      input: INPUT,
      lease: { client, tableName: TABLE },
      beforeTask: async (state) => {
        // The first execution holds the lease (acquired, nothing written yet): start the second.
        if (state !== 'RegisterRun' || second) return;
        heldBy = (await lockItem())?.run_id?.S;
        second = await runLocalEtl({
          engine,
          lakeDir: lake,
          input: INPUT,
          lease: { client, tableName: TABLE },
        });
      },
    });
    expect(first.status).toBe('SUCCEEDED');
    expect(heldBy).toBe(first.run?.run_id);
    expect(second?.status).toBe('SKIPPED');
    expect(second?.steps).toEqual([]); // no Athena statement ran
    expect(second?.landing).toBeUndefined();
    const [pending] = await engine.query<{ n: number }>('SELECT count(*) AS n FROM ops.etl_pending');
    expect(pending?.n).toBe(0);
    const [silver] = await engine.query<{ n: number; d: number }>(
      'SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM silver.events',
    );
    expect(silver?.n).toBe(silver?.d);
    // released on success: the next execution acquires it
    expect(await lockItem()).toBeUndefined();
    const third = await runLocalEtl({
      engine,
      lakeDir: lake,
      input: INPUT,
      lease: { client, tableName: TABLE },
    });
    expect(third.status).toBe('SUCCEEDED');
  });

  it('is released when a run fails, and an expired lease is taken over', async () => {
    const failed = runLocalEtl({
      engine,
      lakeDir: lake,
      input: INPUT,
      lease: { client, tableName: TABLE },
      beforeTask: (state) => {
        // (a step every run reaches: an idle run, as this one is, skips the silver steps)
        if (state === 'CompleteRun') throw new Error('injected failure');
      },
    });
    await expect(failed).rejects.toBeInstanceOf(EtlRunFailedError);
    expect(await lockItem()).toBeUndefined();

    // A lease left by an execution that died without release, past its expiry.
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          lock_id: { S: ETL_LEASE_ID },
          run_id: { S: 'crashed' },
          execution_id: { S: 'arn:aws:states:us-east-1:000000000000:execution:etl:crashed' },
          acquired_at: { S: '2020-01-01T00:00:00.000Z' },
          expires_at: { S: '2020-01-01T06:10:00.000Z' },
        },
      }),
    );
    const next = await runLocalEtl({
      engine,
      lakeDir: lake,
      input: INPUT,
      lease: { client, tableName: TABLE },
    });
    expect(next.status).toBe('SUCCEEDED');
    expect(await lockItem()).toBeUndefined();
  });

  it('an unexpired lease of another execution skips the run; the EventBridge handler releases only its holder', async () => {
    const holder = 'arn:aws:states:us-east-1:000000000000:execution:etl:running';
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          lock_id: { S: ETL_LEASE_ID },
          run_id: { S: 'running' },
          execution_id: { S: holder },
          acquired_at: { S: new Date().toISOString() },
          expires_at: { S: new Date(Date.now() + 3_600_000).toISOString() },
        },
      }),
    );
    const skipped = await runLocalEtl({
      engine,
      lakeDir: lake,
      input: INPUT,
      lease: { client, tableName: TABLE },
    });
    expect(skipped.status).toBe('SKIPPED');
    expect(await releaseLease(client, TABLE, `${holder}-other`)).toBe(false);
    expect((await lockItem())?.run_id?.S).toBe('running');
    expect(await releaseLease(client, TABLE, holder)).toBe(true);
    expect(await lockItem()).toBeUndefined();
  });
});
