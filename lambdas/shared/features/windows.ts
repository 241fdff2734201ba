/**
 * Tumbling windows of the real-time trending counters. Buckets are aligned to the Unix epoch,
 * which makes them aligned to UTC minutes/hours: a 5-minute bucket starts at :00, :05, … and a
 * 1-hour bucket at the top of the hour, whatever the event's original zone was.
 */

export const WINDOW_SIZES_MS = {
  '5m': 5 * 60 * 1000,
  '1h': 60 * 60 * 1000,
} as const;

export type WindowName = keyof typeof WINDOW_SIZES_MS;

export const WINDOW_NAMES: readonly WindowName[] = ['5m', '1h'];

/**
 * How long a window item lives after its bucket ends (DynamoDB TTL). Long enough to compare
 * the current bucket with recent ones (5m: 2 days, 1h: 14 days); the lake keeps history.
 */
export const WINDOW_RETENTION_SECONDS: Readonly<Record<WindowName, number>> = {
  '5m': 2 * 24 * 60 * 60,
  '1h': 14 * 24 * 60 * 60,
};

/** Start (epoch ms, UTC-aligned) of the bucket of `window` that contains `epochMs`. */
export function bucketStart(epochMs: number, window: WindowName): number {
  const size = WINDOW_SIZES_MS[window];
  return Math.floor(epochMs / size) * size;
}

/** Bucket start as the ISO string used inside keys (`2026-11-21T10:05:00.000Z`). */
export function bucketStartIso(epochMs: number, window: WindowName): string {
  return new Date(bucketStart(epochMs, window)).toISOString();
}

/** Epoch seconds at which a window item may be deleted by TTL (deterministic per bucket). */
export function windowExpiresAt(bucketStartMs: number, window: WindowName): number {
  return Math.floor((bucketStartMs + WINDOW_SIZES_MS[window]) / 1000) + WINDOW_RETENTION_SECONDS[window];
}
