/**
 * Train / validation / test splits of the offline evaluation. All splits work on each
 * shopper's distinct items in first-interaction order (see `distinctItems`), so a test item is
 * always something the shopper had not interacted with before: repeat purchases are not
 * "predicted" by remembering them.
 */
import type { DistinctEntry } from './data.ts';

export interface LeaveOneOutSplit {
  /** Per shopper: everything but the last two items (all items for shoppers with < 3). */
  readonly train: Map<string, DistinctEntry[]>;
  /** Second-to-last item of each qualifying shopper (≥ 3 distinct items). */
  readonly validation: Map<string, DistinctEntry>;
  /** Last item of each qualifying shopper. */
  readonly test: Map<string, DistinctEntry>;
}

/** @default 3 distinct items: shoppers with fewer are trained on but not evaluated. */
export const MIN_LOO_ITEMS = 3;

/**
 * Leave-one-out: per shopper the last item is the test item, the second-to-last the
 * validation item, the rest is training data. Shoppers with fewer than three items stay
 * entirely in training.
 */
export function leaveOneOut(histories: ReadonlyMap<string, readonly DistinctEntry[]>): LeaveOneOutSplit {
  const train = new Map<string, DistinctEntry[]>();
  const validation = new Map<string, DistinctEntry>();
  const test = new Map<string, DistinctEntry>();
  for (const [user, h] of histories) {
    if (h.length < MIN_LOO_ITEMS) {
      train.set(user, h.slice());
      continue;
    }
    train.set(user, h.slice(0, -2));
    validation.set(user, h[h.length - 2] as DistinctEntry);
    test.set(user, h[h.length - 1] as DistinctEntry);
  }
  return { train, validation, test };
}

export interface TimeSplit {
  readonly cut: number;
  /** Items first seen before the cut. */
  readonly train: Map<string, DistinctEntry[]>;
  /** Items first seen at or after the cut, per shopper who also has training items. */
  readonly test: Map<string, DistinctEntry[]>;
}

/** Timestamp below which `fraction` of all (distinct) interactions fall. */
export function timeQuantile(
  histories: ReadonlyMap<string, readonly DistinctEntry[]>,
  fraction: number,
): number {
  const ts: number[] = [];
  for (const h of histories.values()) for (const e of h) ts.push(e.first);
  if (ts.length === 0) return 0;
  ts.sort((a, b) => a - b);
  return ts[Math.min(ts.length - 1, Math.floor(ts.length * fraction))] as number;
}

/** Global time cut: one timestamp splits everybody's history into past (train) and future (test). */
export function timeSplit(histories: ReadonlyMap<string, readonly DistinctEntry[]>, cut: number): TimeSplit {
  const train = new Map<string, DistinctEntry[]>();
  const test = new Map<string, DistinctEntry[]>();
  for (const [user, h] of histories) {
    const past = h.filter((e) => e.first < cut);
    const future = h.filter((e) => e.first >= cut);
    if (past.length > 0) train.set(user, past);
    if (past.length > 0 && future.length > 0) test.set(user, future);
  }
  return { cut, train, test };
}
