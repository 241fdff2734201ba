/** Task `TrainAndEvaluate` of `train.asl.json`: top-K lists, offline evaluation, quality gate. */
import { trainingDepsFromEnv } from './context.ts';
import { parseTrainInput, type TrainOutput, trainAndEvaluate } from './pipeline.ts';

const deps = trainingDepsFromEnv();

/** Input: `{ run, interactionsUri, cooccurrenceUri?, snapshots? }` (see pipeline.ts). */
export const handler = async (input: unknown): Promise<TrainOutput> =>
  trainAndEvaluate(parseTrainInput(input), deps);
