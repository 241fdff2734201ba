/**
 * Task `Activate` of `train.asl.json`: switches the active-model pointer to the new version
 * (deferred while an A/B test runs: the version stays published, `deferred_by` names the test).
 */
import { requiredText, trainingDepsFromEnv } from './context.ts';
import { activateVersion, TRAINING_ACTIVATION } from './pipeline.ts';

const deps = trainingDepsFromEnv();

export const handler = async (
  input: unknown,
): Promise<{ version: string; previous: string | null; deferred_by?: string }> =>
  activateVersion({ version: requiredText(input, 'version') }, deps, TRAINING_ACTIVATION);
