/**
 * The consumer's optional settings, read from the environment in one place: the Lambda entry
 * point (`handler.ts`) and the local runtime (`local/runtime/handlers.ts`) both call this, so
 * the two wirings cannot drift.
 *  - `RECENT_ITEMS_CAP`  length of recent-items lists (default 20),
 *  - `DEDUP_TTL_DAYS`    lifetime of dedup markers (default 7),
 *  - `TREND_SLICES`      items per window bucket and shard for product counters (default 1;
 *                        raise for catalogs with > ~8,000 active products/hour/shard).
 */
import { intEnv } from '../shared/env.ts';
import { DEFAULT_WINDOW_SLICES } from '../shared/features/aggregate.ts';
import { DEFAULT_DEDUP_TTL_DAYS } from '../shared/features/apply.ts';
import { DEFAULT_RECENT_ITEMS_CAP } from '../shared/features/recent.ts';

export interface ConsumerSettings {
  readonly recentItemsCap: number;
  readonly dedupTtlDays: number;
  readonly windowSlices: number;
}

function positiveIntEnv(
  name: string,
  fallback: number,
  env: Readonly<Record<string, string | undefined>>,
): number {
  const value = intEnv(name, fallback, env as NodeJS.ProcessEnv);
  if (value < 1) throw new Error(`environment variable ${name} must be at least 1, got ${value}`);
  return value;
}

/** Reads and checks the optional consumer settings; a bad value fails with its name. */
export function consumerSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ConsumerSettings {
  return {
    recentItemsCap: positiveIntEnv('RECENT_ITEMS_CAP', DEFAULT_RECENT_ITEMS_CAP, env),
    dedupTtlDays: positiveIntEnv('DEDUP_TTL_DAYS', DEFAULT_DEDUP_TTL_DAYS, env),
    windowSlices: positiveIntEnv('TREND_SLICES', DEFAULT_WINDOW_SLICES, env),
  };
}

/** Names of the optional settings, for runtimes that pass them through. */
export const CONSUMER_SETTING_VARIABLES = ['RECENT_ITEMS_CAP', 'DEDUP_TTL_DAYS', 'TREND_SLICES'] as const;
