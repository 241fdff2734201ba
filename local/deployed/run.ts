/**
 * The CLI side of a deployed stage's state machines: `shoplake etl --stage` and
 * `shoplake train --stage` start an execution, print each state as it is entered, and end
 * with the execution's status (exit 1 unless it succeeded).
 */
import { STAGES, type StageConfig } from '../../infra/config/index.ts';
import type { Reporter } from '../cli/output.ts';
import {
  type DeployedExecution,
  DeployedStageError,
  deployedClients,
  destroyClients,
  startAndFollow,
} from './stage.ts';

/**
 * The shipped stage configuration a deployed stage name comes from: `dev`, or `dev-<suffix>`
 * for a copy deployed with `-c stageSuffix=<suffix>`.
 */
export function stageConfigOf(stage: string): StageConfig {
  const exact = STAGES[stage];
  if (exact) return exact;
  const base = Object.keys(STAGES)
    .filter((name) => stage.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  const config = base ? STAGES[base] : undefined;
  if (!config)
    throw new DeployedStageError(
      `unknown stage ${stage}: expected one of ${Object.keys(STAGES).join(', ')} (or <stage>-<suffix>)`,
    );
  return config;
}

/**
 * Execution input of an ETL run started from the CLI: the run window as given, and whether the
 * stage's Glue table optimizers maintain the tables (as the schedule passes it).
 */
export function deployedEtlInput(stage: string, window: Record<string, unknown>): Record<string, unknown> {
  return {
    ...window,
    trigger: 'cli',
    glueTableOptimizers: stageConfigOf(stage).icebergMaintenance.glueTableOptimizers,
  };
}

/** One line per fact of a finished execution. */
export function describeDeployedExecution(e: DeployedExecution): string {
  return [
    `${e.status} ${e.executionArn}`,
    `  started ${e.startDate ?? '-'}  stopped ${e.stopDate ?? '-'}  states entered: ${e.states.length}`,
    ...(e.error ? [`  error: ${e.error}${e.cause ? `: ${e.cause.slice(0, 2000)}` : ''}`] : []),
  ].join('\n');
}

/** A deployed execution that ended other than SUCCEEDED (exit 1; `--json`: its details). */
export class DeployedExecutionFailedError extends Error {
  readonly cliCode = 'execution_failed';
  constructor(readonly execution: DeployedExecution) {
    super(
      `execution ${execution.executionArn} ended ${execution.status}${execution.error ? `: ${execution.error}` : ''}`,
    );
    this.name = 'DeployedExecutionFailedError';
  }

  cliDetails(): Record<string, unknown> {
    const e = this.execution;
    return {
      execution_arn: e.executionArn,
      status: e.status,
      states: e.states,
      ...(e.error ? { error: e.error } : {}),
      ...(e.cause ? { cause: e.cause } : {}),
    };
  }
}

/**
 * Starts and follows one execution and reports it; throws `DeployedExecutionFailedError` unless
 * it succeeded (with `json`, the error document of main.ts carries the execution instead).
 */
export async function runDeployedStateMachine(
  stage: string,
  machine: 'etlStateMachine' | 'trainStateMachine',
  input: Record<string, unknown>,
  report: Reporter,
  options: { readonly json?: boolean } = {},
): Promise<DeployedExecution> {
  const clients = deployedClients();
  try {
    report.progress(
      `stage ${stage}: starting the ${machine === 'etlStateMachine' ? 'ETL' : 'training'} state machine`,
    );
    const execution = await startAndFollow(clients, stage, machine, input, {
      onState: (state) => report.progress(`  ${state}`),
    });
    if (execution.status !== 'SUCCEEDED') {
      if (!options.json) report.result(execution, () => describeDeployedExecution(execution));
      throw new DeployedExecutionFailedError(execution);
    }
    report.result(execution, () => describeDeployedExecution(execution));
    return execution;
  } finally {
    destroyClients(clients);
  }
}
