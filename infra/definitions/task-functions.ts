/**
 * Every task Lambda a state machine invokes, named explicitly by its `${<Key>}` ARN
 * substitution: the ETL's come from its step list (`lambdas/etl/steps.ts`), the training
 * machine's are listed here. The processing stack creates a function for each key a
 * definition references and fails synthesis on a reference not listed here.
 */
import { etlTaskLambdas, type TaskLambda } from '../../lambdas/etl/steps.ts';

export type { TaskLambda };

/** The training state machine's tasks (`step-functions/train.asl.json`). */
export const TRAINING_TASK_LAMBDAS: readonly TaskLambda[] = [
  { key: 'TrainingPrepareFunctionArn', entry: 'training/prepare.ts', group: 'training', name: 'Prepare' },
  { key: 'TrainingTrainFunctionArn', entry: 'training/train.ts', group: 'training', name: 'Train' },
  { key: 'TrainingPublishFunctionArn', entry: 'training/publish.ts', group: 'training', name: 'Publish' },
  { key: 'TrainingActivateFunctionArn', entry: 'training/activate.ts', group: 'training', name: 'Activate' },
];

/**
 * The demand-forecast state machine's TypeScript tasks (`step-functions/forecast.asl.json`); its
 * Python model step (`${ForecastModelFunctionArn}`) is `infra/constructs/forecast-model-function.ts`.
 */
export const FORECAST_TASK_LAMBDAS: readonly TaskLambda[] = [
  { key: 'ForecastPrepareFunctionArn', entry: 'forecast/prepare.ts', group: 'forecast', name: 'Prepare' },
  { key: 'ForecastRegisterFunctionArn', entry: 'forecast/register.ts', group: 'forecast', name: 'Register' },
  { key: 'ForecastActivateFunctionArn', entry: 'forecast/activate.ts', group: 'forecast', name: 'Activate' },
  { key: 'ForecastResolveFunctionArn', entry: 'forecast/resolve.ts', group: 'forecast', name: 'Resolve' },
  { key: 'ForecastLoadFunctionArn', entry: 'forecast/load.ts', group: 'forecast', name: 'Load' },
];

/** Task Lambdas by substitution key. */
export function taskLambdas(): Readonly<Record<string, TaskLambda>> {
  const out: Record<string, TaskLambda> = {};
  for (const t of [...etlTaskLambdas(), ...TRAINING_TASK_LAMBDAS, ...FORECAST_TASK_LAMBDAS]) {
    if (out[t.key] && out[t.key]?.entry !== t.entry) {
      throw new Error(`task Lambda key ${t.key} names two modules: ${out[t.key]?.entry}, ${t.entry}`);
    }
    out[t.key] = t;
  }
  return out;
}
