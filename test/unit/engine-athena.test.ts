import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { describe, expect, it } from 'vitest';
import { UnknownTableError } from '../../lambdas/shared/catalog/index.ts';
import {
  AthenaEngine,
  AthenaQueryFailedError,
  AthenaQueryTimeoutError,
  athenaValue,
} from '../../local/engine/athena.ts';

type Cmd = StartQueryExecutionCommand | GetQueryExecutionCommand | GetQueryResultsCommand;

/** A fake Athena: scripted states per poll and result pages. */
function fakeAthena(script: {
  states: string[];
  pages?: { rows: (string | undefined)[][]; next?: string }[];
  reason?: string;
}) {
  const sent: Cmd[] = [];
  let polls = 0;
  let page = 0;
  const client = {
    send: async (cmd: Cmd) => {
      sent.push(cmd);
      if (cmd instanceof StartQueryExecutionCommand) return { QueryExecutionId: 'q-1' };
      if (cmd instanceof GetQueryExecutionCommand) {
        const state = script.states[Math.min(polls++, script.states.length - 1)];
        return {
          QueryExecution: {
            Status: { State: state, ...(script.reason ? { StateChangeReason: script.reason } : {}) },
          },
        };
      }
      const p = script.pages?.[page++] ?? { rows: [] };
      return {
        ResultSet: {
          ResultSetMetadata: {
            ColumnInfo: [
              { Name: 'month', Type: 'date' },
              { Name: 'revenue', Type: 'double' },
              { Name: 'orders', Type: 'bigint' },
              { Name: 'ok', Type: 'boolean' },
            ],
          },
          Rows: p.rows.map((r) => ({ Data: r.map((v) => (v === undefined ? {} : { VarCharValue: v })) })),
        },
        NextToken: p.next,
      };
    },
  };
  return { client: client as never, sent };
}

describe('AthenaEngine', () => {
  it('starts in the workgroup with positional execution parameters and physical names', async () => {
    const delays: number[] = [];
    const fake = fakeAthena({
      states: ['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED'],
      pages: [
        {
          rows: [
            ['month', 'revenue', 'orders', 'ok'],
            ['2024-01-01', '10.5', '3', 'true'],
          ],
          next: 't2',
        },
        { rows: [['2024-02-01', undefined, '0', 'false']] },
      ],
    });
    const engine = new AthenaEngine({
      client: fake.client,
      workgroup: 'shoplake-wg',
      databasePrefix: 'dev_',
      pollInitialMs: 100,
      pollMaxMs: 300,
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    const rows = await engine.query(
      'SELECT month, revenue, orders, ok FROM gold.monthly_kpis WHERE month >= CAST(:from AS date) AND note = :note',
      { from: '2024-01-01', note: "it's" },
    );
    const start = fake.sent[0] as StartQueryExecutionCommand;
    expect(start.input.WorkGroup).toBe('shoplake-wg');
    expect(start.input.QueryString).toBe(
      'SELECT month, revenue, orders, ok FROM dev_gold.monthly_kpis WHERE month >= CAST(? AS date) AND note = ?',
    );
    expect(start.input.ExecutionParameters).toEqual(["'2024-01-01'", "'it''s'"]);
    expect(delays).toEqual([100, 200, 300]);
    expect(rows).toEqual([
      { month: '2024-01-01', revenue: 10.5, orders: 3, ok: true },
      { month: '2024-02-01', revenue: null, orders: 0, ok: false },
    ]);
    const pages = fake.sent.filter((c) => c instanceof GetQueryResultsCommand) as GetQueryResultsCommand[];
    expect(pages.map((p) => p.input.NextToken)).toEqual([undefined, 't2']);
  });

  it('raises a typed error with the reason when the query fails', async () => {
    const fake = fakeAthena({ states: ['RUNNING', 'FAILED'], reason: 'ICEBERG_COMMIT_ERROR: conflict' });
    const engine = new AthenaEngine({ client: fake.client, workgroup: 'wg', sleep: async () => undefined });
    const err = await engine
      .execute('DELETE FROM gold.top_products WHERE rank > 20')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AthenaQueryFailedError);
    expect((err as AthenaQueryFailedError).queryExecutionId).toBe('q-1');
    expect((err as Error).message).toContain('ICEBERG_COMMIT_ERROR');
  });

  it('gives up after the timeout with the execution id', async () => {
    let clock = 0;
    const fake = fakeAthena({ states: ['RUNNING'] });
    const engine = new AthenaEngine({
      client: fake.client,
      workgroup: 'wg',
      timeoutMs: 1_000,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    await expect(engine.execute('SELECT 1 FROM gold.daily_sales')).rejects.toBeInstanceOf(
      AthenaQueryTimeoutError,
    );
  });

  it('refuses tables outside the catalog and missing parameters before calling Athena', async () => {
    const fake = fakeAthena({ states: ['SUCCEEDED'] });
    const engine = new AthenaEngine({ client: fake.client, workgroup: 'wg' });
    await expect(engine.query('SELECT * FROM default.secrets')).rejects.toBeInstanceOf(UnknownTableError);
    await expect(engine.query('SELECT * FROM gold.daily_sales WHERE sale_date = :d')).rejects.toThrow(
      /missing value/,
    );
    expect(fake.sent).toHaveLength(0);
  });

  it('converts cells by column type', () => {
    expect(athenaValue('decimal(10,2)', '1.25')).toBe(1.25);
    expect(athenaValue('varchar', undefined)).toBeNull();
    expect(athenaValue('timestamp', '2024-01-01 00:00:00.000')).toBe('2024-01-01 00:00:00.000');
  });
});
