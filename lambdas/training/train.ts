/** Task `TrainAndEvaluate` of `train.asl.json`: top-K lists, offline evaluation, quality gate. */
import { field, requiredText, trainingDepsFromEnv } from './context.ts';
import { prepareRun, type TrainInput, type TrainOutput, trainAndEvaluate } from './pipeline.ts';

const deps = trainingDepsFromEnv();

/** Input: `{ run, interactionsUri, cooccurrenceUri?, snapshots? }` (see pipeline.ts). */
export const handler = async (input: unknown): Promise<TrainOutput> => {
  const cooccurrence = field(input, 'cooccurrenceUri');
  const snapshots = field(input, 'snapshots');
  const trainInput: TrainInput = {
    run: prepareRun(field(input, 'run'), new Date()),
    interactionsUri: requiredText(input, 'interactionsUri'),
    ...(typeof cooccurrence === 'string' && cooccurrence !== '' ? { cooccurrenceUri: cooccurrence } : {}),
    ...(typeof snapshots === 'object' && snapshots !== null
      ? { snapshots: Object.fromEntries(Object.entries(snapshots).map(([k, v]) => [k, String(v)])) }
      : {}),
  };
  return trainAndEvaluate(trainInput, deps);
};
