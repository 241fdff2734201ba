/**
 * The analytics query port on Athena: StartQueryExecution in the stage's workgroup with the
 * values as execution parameters and Athena result reuse (bounded age), polling until a
 * per-request deadline (then `AnalyticsTimeoutError` → 504 with a retry hint; the retry reuses
 * the finished result), and GetQueryResults pages whose NextToken is the continuation cursor.
 */
import {
  type AthenaClient,
  GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { AthenaQueryTimeoutError, waitForAthenaQuery } from '../shared/athena-query.ts';
import {
  athenaLiteral,
  bindNamed,
  type Params,
  qualifyNamespaces,
  toPositional,
} from '../shared/catalog/sql.ts';
import {
  AnalyticsCursorError,
  type AnalyticsQueryPort,
  AnalyticsTimeoutError,
  type QueryPage,
} from './analytics.ts';

export interface AthenaPortOptions {
  readonly client: Pick<AthenaClient, 'send'>;
  readonly workgroup: string;
  /** Glue database prefix of the stage (`shoplake_dev_` …): `gold.x` → `<prefix>gold.x`. */
  readonly databasePrefix: string;
  /** Athena reuses a result of the same query and parameters up to this old. @default 60 */
  readonly resultReuseMinutes?: number;
  /** Longest wait for a query per request, ms (under API Gateway's 29 s). @default 20_000 */
  readonly timeoutMs?: number;
  /** First poll delay, ms; doubles up to 1 s. @default 200 */
  readonly pollInitialMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export const ATHENA_PORT_DEFAULTS = {
  resultReuseMinutes: 60,
  timeoutMs: 20_000,
  pollInitialMs: 200,
} as const;
const POLL_MAX_MS = 1_000;

interface Cursor {
  readonly q: string;
  readonly t: string;
}

/** The query text and positional execution parameters Athena receives for a data set query. */
export function athenaQuery(
  sql: string,
  params: Params,
  databasePrefix: string,
): { queryString: string; executionParameters: string[] | undefined } {
  const bound = bindNamed(sql, params);
  const positional = toPositional(qualifyNamespaces(sql, databasePrefix));
  const values = positional.names.map((n) => athenaLiteral(bound[n] ?? null));
  return { queryString: positional.sql, executionParameters: values.length > 0 ? values : undefined };
}

export function athenaQueryPort(options: AthenaPortOptions): AnalyticsQueryPort {
  const o = {
    ...ATHENA_PORT_DEFAULTS,
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    now: Date.now,
    ...options,
  };

  const waitFor = async (id: string): Promise<void> => {
    try {
      await waitForAthenaQuery(o.client, id, { ...o, pollMaxMs: POLL_MAX_MS });
    } catch (error: unknown) {
      // The deadline is per request: 504 with a retry hint (the retry reuses the result).
      if (error instanceof AthenaQueryTimeoutError) throw new AnalyticsTimeoutError(error.message, id);
      throw error;
    }
  };

  const readPage = async (id: string, limit: number, token: string | undefined): Promise<QueryPage> => {
    const first = token === undefined;
    let out: GetQueryResultsCommandOutput;
    try {
      out = await o.client.send(
        // The first page of a SELECT starts with the header row: ask for one more.
        new GetQueryResultsCommand({
          QueryExecutionId: id,
          MaxResults: first ? limit + 1 : limit,
          NextToken: token,
        }),
      );
    } catch (error: unknown) {
      if (!first && error instanceof Error && error.name === 'InvalidRequestException') {
        throw new AnalyticsCursorError(`the result of query ${id} can no longer be paged: ${error.message}`);
      }
      throw error;
    }
    const names = (out.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? '');
    const raw = out.ResultSet?.Rows ?? [];
    const body = first ? raw.slice(1) : raw;
    const rows = body.map((r) => {
      const row: Record<string, unknown> = {};
      names.forEach((n, i) => {
        row[n] = r.Data?.[i]?.VarCharValue ?? null;
      });
      return row;
    });
    const cursor = out.NextToken ? JSON.stringify({ q: id, t: out.NextToken } satisfies Cursor) : undefined;
    return cursor === undefined ? { rows } : { rows, cursor };
  };

  return {
    async page(sql, params, limit, cursor) {
      if (cursor !== undefined) {
        let c: Cursor;
        try {
          c = JSON.parse(cursor) as Cursor;
        } catch {
          throw new AnalyticsCursorError('next_token is not valid');
        }
        if (typeof c.q !== 'string' || typeof c.t !== 'string')
          throw new AnalyticsCursorError('next_token is not valid');
        return readPage(c.q, limit, c.t);
      }
      const prepared = athenaQuery(sql, params, o.databasePrefix);
      const start = await o.client.send(
        new StartQueryExecutionCommand({
          QueryString: prepared.queryString,
          WorkGroup: o.workgroup,
          QueryExecutionContext: { Catalog: 'AwsDataCatalog' },
          ...(prepared.executionParameters ? { ExecutionParameters: prepared.executionParameters } : {}),
          ResultReuseConfiguration: {
            ResultReuseByAgeConfiguration: {
              Enabled: o.resultReuseMinutes > 0,
              MaxAgeInMinutes: o.resultReuseMinutes,
            },
          },
        }),
      );
      const id = start.QueryExecutionId;
      if (!id) throw new Error('StartQueryExecution returned no id');
      await waitFor(id);
      return readPage(id, limit, undefined);
    },
  };
}
