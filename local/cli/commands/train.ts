/**
 * `shoplake train`: runs the training state machine (`step-functions/train.asl.json`) locally.
 * Also home of `loadLakeInteractions`, which `shoplake evaluate` uses without a file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Interaction } from '../../../lambdas/shared/recommender/types.ts';

export class LakeNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LakeNotReadyError';
  }
}

/** Interactions from the local lake's silver events (via the query engine). */
export async function loadLakeInteractions(
  stateDir: string,
): Promise<{ interactions: Interaction[]; source: string }> {
  const lake = join(stateDir, 'lake');
  if (!existsSync(lake)) {
    throw new LakeNotReadyError(
      `no local lake at ${lake}: run the pipeline first (shoplake demo / etl) or pass --interactions FILE`,
    );
  }
  throw new LakeNotReadyError(
    'reading silver interactions from the lake needs the query engine (local/engine)',
  );
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train, evaluate, gate and publish a recommendation model (runs train.asl.json locally)')
    .action(() => {
      throw new LakeNotReadyError('shoplake train: the local training pipeline is not wired yet');
    });
}
