/**
 * Shared init of the forecast task Lambdas: environment read once per container (a missing
 * variable fails fast with its name), clients created once.
 */
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { athenaClient, documentClient } from '../shared/aws-clients.ts';
import { optionalEnv, requireEnv } from '../shared/env.ts';
import { ForecastRegistry } from '../shared/forecast/registry.ts';
import { joinUri, objectIo } from '../training/objects.ts';
import type { ForecastDeps, StatementRunner } from './pipeline.ts';

export class AthenaStatementFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AthenaStatementFailedError';
  }
}

/** Runs statements on Athena and waits for each (bounded), failing with Athena's reason. */
export function athenaStatements(
  client: Pick<AthenaClient, 'send'>,
  workGroup: string,
  options: { pollMs?: number; timeoutMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): StatementRunner {
  const pollMs = options.pollMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    async run(sql) {
      const started = await client.send(
        new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: workGroup }),
      );
      const id = started.QueryExecutionId;
      if (!id) throw new AthenaStatementFailedError('StartQueryExecution returned no id');
      for (let waited = 0; waited <= timeoutMs; waited += pollMs) {
        const res = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
        const state = res.QueryExecution?.Status?.State;
        if (state === 'SUCCEEDED') return;
        if (state === 'FAILED' || state === 'CANCELLED')
          throw new AthenaStatementFailedError(
            `Athena query ${id} ${state}: ${res.QueryExecution?.Status?.StateChangeReason ?? ''}`,
          );
        await sleep(pollMs);
      }
      throw new AthenaStatementFailedError(`Athena query ${id} did not finish within ${timeoutMs} ms`);
    },
  };
}

/** Where forecast artifacts go: `FORECAST_ARTIFACTS_URI`, else `<LAKE_ROOT_URI>/ml/forecast`. */
export function forecastArtifactsUri(env: NodeJS.ProcessEnv = process.env): string {
  return (
    optionalEnv('FORECAST_ARTIFACTS_URI', env) ?? joinUri(requireEnv('LAKE_ROOT_URI', env), 'ml/forecast')
  );
}

export function forecastDepsFromEnv(env: NodeJS.ProcessEnv = process.env): ForecastDeps {
  return {
    registry: new ForecastRegistry(documentClient(), requireEnv('RECOMMENDATIONS_TABLE_NAME', env)),
    io: objectIo(),
    artifactsUri: forecastArtifactsUri(env),
    statements: athenaStatements(athenaClient(), requireEnv('ATHENA_WORKGROUP', env)),
  };
}
