/**
 * Shared init of the training task Lambdas: environment read once per container (a missing
 * variable fails fast with its name), clients created once.
 */
import { documentClient } from '../shared/aws-clients.ts';
import { optionalEnv, requireEnv } from '../shared/env.ts';
import { RecommendationStore } from '../shared/recommender/store.ts';
import { joinUri, objectIo } from './objects.ts';
import { type TrainingDeps, TrainingInputError } from './pipeline.ts';

/** Where model artifacts go: `MODEL_ARTIFACTS_URI`, else `<LAKE_ROOT_URI>/ml/models`. */
export function artifactsUri(env: NodeJS.ProcessEnv = process.env): string {
  return optionalEnv('MODEL_ARTIFACTS_URI', env) ?? joinUri(requireEnv('LAKE_ROOT_URI', env), 'ml/models');
}

/** Builds the dependencies of the task functions from the environment. */
export function trainingDepsFromEnv(env: NodeJS.ProcessEnv = process.env): TrainingDeps {
  return {
    store: new RecommendationStore({
      client: documentClient(),
      tableName: requireEnv('RECOMMENDATIONS_TABLE_NAME', env),
    }),
    io: objectIo(),
    artifactsUri: artifactsUri(env),
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
