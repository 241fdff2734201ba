/**
 * Iceberg snapshot ids of the training data, for the model registry. On AWS they come from
 * Athena's `$snapshots` metadata table of each Glue table (the newest snapshot after the
 * extract); locally the runner reads them from the local Iceberg catalog.
 */
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';

export type SnapshotResolver = () => Promise<Record<string, string>>;

export class SnapshotQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotQueryError';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Current snapshot id of each `namespace.table` through Athena (`"db"."table$snapshots"`).
 * `client` may be a factory, called on first use (the Lambdas that never resolve snapshots
 * then never build an Athena client).
 */
export function athenaSnapshotResolver(
  clientOrFactory: Pick<AthenaClient, 'send'> | (() => Pick<AthenaClient, 'send'>),
  workGroup: string,
  tables: Readonly<Record<string, { database: string; table: string }>>,
  timeoutMs = 120_000,
): SnapshotResolver {
  let athena: Pick<AthenaClient, 'send'> | undefined;
  return async () => {
    athena ??= typeof clientOrFactory === 'function' ? clientOrFactory() : clientOrFactory;
    const client = athena;
    const out: Record<string, string> = {};
    for (const [logical, t] of Object.entries(tables)) {
      const started = await client.send(
        new StartQueryExecutionCommand({
          WorkGroup: workGroup,
          QueryString: `SELECT CAST(snapshot_id AS varchar) AS snapshot_id FROM "${t.database}"."${t.table}$snapshots" ORDER BY committed_at DESC LIMIT 1`,
        }),
      );
      const id = started.QueryExecutionId;
      if (!id) throw new SnapshotQueryError('Athena returned no query execution id');
      const deadline = Date.now() + timeoutMs;
      for (let wait = 200; ; wait = Math.min(wait * 2, 3_000)) {
        const q = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
        const state = q.QueryExecution?.Status?.State;
        if (state === 'SUCCEEDED') break;
        if (state === 'FAILED' || state === 'CANCELLED') {
          throw new SnapshotQueryError(
            `snapshot query ${id} ${state}: ${q.QueryExecution?.Status?.StateChangeReason ?? ''}`,
          );
        }
        if (Date.now() > deadline) throw new SnapshotQueryError(`snapshot query ${id} still running`);
        await sleep(wait);
      }
      const rows = await client.send(new GetQueryResultsCommand({ QueryExecutionId: id }));
      const value = rows.ResultSet?.Rows?.[1]?.Data?.[0]?.VarCharValue;
      if (value) out[logical] = value;
    }
    return out;
  };
}
