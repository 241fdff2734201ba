/**
 * Iceberg snapshot ids of the training data, for the model registry. On AWS they come from
 * Athena's `$snapshots` metadata table of each Glue table (the newest snapshot after the
 * extract); locally the runner reads them from the local Iceberg catalog.
 */
import {
  type AthenaClient,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  AthenaQueryFailedError,
  AthenaQueryTimeoutError,
  waitForAthenaQuery,
} from '../shared/athena-query.ts';

export type SnapshotResolver = () => Promise<Record<string, string>>;

export class SnapshotQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotQueryError';
  }
}

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
      try {
        await waitForAthenaQuery(client, id, { pollInitialMs: 200, pollMaxMs: 3_000, timeoutMs });
      } catch (error: unknown) {
        if (error instanceof AthenaQueryFailedError || error instanceof AthenaQueryTimeoutError)
          throw new SnapshotQueryError(`snapshot ${error.message}`);
        throw error;
      }
      const rows = await client.send(new GetQueryResultsCommand({ QueryExecutionId: id }));
      const value = rows.ResultSet?.Rows?.[1]?.Data?.[0]?.VarCharValue;
      if (value) out[logical] = value;
    }
    return out;
  };
}
