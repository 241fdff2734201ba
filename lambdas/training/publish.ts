/** Task `Publish` of `train.asl.json`: batched, retried writes of the candidate's lists. */
import { requiredText, trainingDepsFromEnv } from './context.ts';
import { publishCandidate } from './pipeline.ts';

const deps = trainingDepsFromEnv();

export const handler = async (input: unknown): Promise<{ version: string; items: number }> =>
  publishCandidate(
    { version: requiredText(input, 'version'), artifactUri: requiredText(input, 'artifactUri') },
    deps,
  );
