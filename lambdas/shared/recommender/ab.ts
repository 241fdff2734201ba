/**
 * A/B assignment between two model versions: a stable hash of the shopper (user id, or the
 * session id for anonymous visitors) and the experiment name picks the arm, so a shopper stays
 * in one arm for the life of an experiment and a new experiment reshuffles everyone. Pure code,
 * used by serving (`lambdas/recommendations`) on the experiment named by the active-model pointer
 * (`store.ts`), which `shoplake models ab start|stop` writes.
 */
import { createHash } from 'node:crypto';

export type Arm = 'A' | 'B';

export interface AbSplit {
  /** Experiment name (salt of the hash). */
  readonly experiment: string;
  /** Version served to arm A (the control) and arm B. */
  readonly versionA: string;
  readonly versionB: string;
  /** Share of shoppers in arm B, in [0, 1]. */
  readonly shareB: number;
}

export class AbSplitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbSplitError';
  }
}

/** Validates a split (share in [0, 1], two different versions, non-empty experiment). */
export function validateSplit(split: AbSplit): AbSplit {
  if (!(split.shareB >= 0 && split.shareB <= 1)) throw new AbSplitError('shareB must be between 0 and 1');
  if (split.versionA === split.versionB) throw new AbSplitError('the two arms must serve different versions');
  if (split.experiment.trim() === '') throw new AbSplitError('experiment must not be empty');
  return split;
}

/** Uniform value in [0, 1) from the first 52 bits of SHA-256(experiment + '\n' + shopper). */
export function abBucket(experiment: string, shopper: string): number {
  const h = createHash('sha256').update(`${experiment}\n${shopper}`).digest();
  // 52 bits: 4 bytes + 20 bits, exactly representable in a double.
  const hi = h.readUInt32BE(0);
  const lo = h.readUInt32BE(4) >>> 12;
  return (hi * 2 ** 20 + lo) / 2 ** 52;
}

/** The arm (and version) of a shopper under a split. */
export function assignArm(split: AbSplit, shopper: string): { arm: Arm; version: string } {
  return abBucket(split.experiment, shopper) < split.shareB
    ? { arm: 'B', version: split.versionB }
    : { arm: 'A', version: split.versionA };
}
