/** Task `Activate` of `train.asl.json`: switches the active-model pointer to the new version. */
import { requiredText, trainingDepsFromEnv } from './context.ts';
import { activateVersion } from './pipeline.ts';

const deps = trainingDepsFromEnv();

export const handler = async (input: unknown): Promise<{ version: string; previous: string | null }> =>
  activateVersion({ version: requiredText(input, 'version') }, deps);
