/**
 * Shared init of the training task Lambdas: environment read once per container (a missing
 * variable fails fast with its name), clients created once.
 */
import { athenaClient, documentClient } from '../shared/aws-clients.ts';
import { optionalEnv, requireEnv } from '../shared/env.ts';
import { RecommendationStore } from '../shared/recommender/store.ts';
import { joinUri, objectIo } from './objects.ts';
import { type TrainingDeps, TrainingInputError } from './pipeline.ts';
import { athenaSnapshotResolver } from './snapshots.ts';

/** Where model artifacts go: `MODEL_ARTIFACTS_URI`, else `<LAKE_ROOT_URI>/ml/models`. */
export function artifactsUri(env: NodeJS.ProcessEnv = process.env): string {
  return optionalEnv('MODEL_ARTIFACTS_URI', env) ?? joinUri(requireEnv('LAKE_ROOT_URI', env), 'ml/models');
}

/** Glue database of each lake namespace (`GLUE_DATABASE_<NS>`, set by the processing stack). */
export function glueDatabases(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ns of ['bronze', 'silver', 'gold', 'ops', 'ml']) {
    const db = optionalEnv(`GLUE_DATABASE_${ns.toUpperCase()}`, env);
    if (db) out[ns] = db;
  }
  return out;
}

/** Builds the dependencies of the task functions from the environment. */
export function trainingDepsFromEnv(env: NodeJS.ProcessEnv = process.env): TrainingDeps {
  const databases = glueDatabases(env);
  return {
    store: new RecommendationStore({
      client: documentClient(),
      tableName: requireEnv('RECOMMENDATIONS_TABLE_NAME', env),
    }),
    io: objectIo(),
    artifactsUri: artifactsUri(env),
    snapshots: athenaSnapshotResolver(athenaClient, requireEnv('ATHENA_WORKGROUP', env), {
      'ml.interactions': { database: databases.ml ?? 'ml', table: 'interactions' },
      'silver.events': { database: databases.silver ?? 'silver', table: 'events' },
    }),
  };
}

export function field(input: unknown, name: string): unknown {
  return typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[name] : undefined;
}

export function requiredText(input: unknown, name: string): string {
  const v = field(input, name);
  if (typeof v !== 'string' || v === '') throw new TrainingInputError(`${name} is required`);
  return v;
}
