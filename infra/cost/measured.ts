/**
 * Inputs of the cost model measured on the real code instead of assumed (the first model
 * assumed 3 DynamoDB write units and 700 bytes per event).
 *
 * How: `npx tsx bench/cost-inputs.bench.ts` (`local/cost/measure.ts`) generates shop traffic at
 * a steady rate, cuts it into the batches the Lambda event-source mapping would deliver
 * (per shard, per batching window) and runs the real stream-consumer handler against the
 * DynamoDB emulator (dynalite) with `ReturnConsumedCapacity: TOTAL` on every request; dynalite
 * bills capacity as DynamoDB does (1 WCU per started KB, the larger of old and new item for an
 * update; consistent reads 1 RCU per started 4 KB). The runs below are its output (generator
 * seed 7, 2,000 customers, 1,000 products); `test/unit/cost-measured-inputs.test.ts` re-measures
 * a short run and checks it against them.
 */

export interface MeasuredRun {
  readonly eventsPerSecond: number;
  readonly minutes: number;
  readonly shards: number;
  readonly batchingWindowSeconds: number;
  readonly events: number;
  readonly invocations: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly eventBytes: number;
}

/** `npx tsx bench/cost-inputs.bench.ts`, 2026-12-04 (uptime load 15–18 on 2 cores; capacity does not depend on load). */
export const MEASURED_RUNS: readonly MeasuredRun[] = [
  {
    eventsPerSecond: 10,
    minutes: 10,
    shards: 4,
    batchingWindowSeconds: 1,
    events: 6000,
    invocations: 1619,
    writeUnits: 15098,
    readUnits: 19716,
    eventBytes: 490,
  },
  {
    eventsPerSecond: 10,
    minutes: 10,
    shards: 1,
    batchingWindowSeconds: 1,
    events: 6000,
    invocations: 524,
    writeUnits: 14758,
    readUnits: 17482,
    eventBytes: 490,
  },
  {
    eventsPerSecond: 10,
    minutes: 10,
    shards: 1,
    batchingWindowSeconds: 5,
    events: 6000,
    invocations: 116,
    writeUnits: 14209,
    readUnits: 16158,
    eventBytes: 490,
  },
  {
    eventsPerSecond: 10,
    minutes: 10,
    shards: 1,
    batchingWindowSeconds: 10,
    events: 6000,
    invocations: 59,
    writeUnits: 13561,
    readUnits: 15359,
    eventBytes: 490,
  },
  {
    eventsPerSecond: 10,
    minutes: 10,
    shards: 1,
    batchingWindowSeconds: 30,
    events: 6000,
    invocations: 20,
    writeUnits: 11897,
    readUnits: 13333,
    eventBytes: 490,
  },
  {
    eventsPerSecond: 10,
    minutes: 10,
    shards: 1,
    batchingWindowSeconds: 60,
    events: 6000,
    invocations: 14,
    writeUnits: 11195,
    readUnits: 12461,
    eventBytes: 490,
  },
  {
    eventsPerSecond: 1,
    minutes: 20,
    shards: 1,
    batchingWindowSeconds: 10,
    events: 1200,
    invocations: 106,
    writeUnits: 2823,
    readUnits: 3417,
    eventBytes: 490,
  },
  {
    eventsPerSecond: 100,
    minutes: 2,
    shards: 1,
    batchingWindowSeconds: 10,
    events: 12000,
    invocations: 26,
    writeUnits: 20577,
    readUnits: 29699,
    eventBytes: 490,
  },
];

/** Mean stored size of the feature items in the 4-shard, 1 s run (bytes as DynamoDB counts them). */
export const MEASURED_ITEM_BYTES = {
  dedupMarker: 193,
  sessionRecentItems: 479,
  userRecentItems: 628,
  windowCounters: 411,
} as const;

export interface MeasuredCapacity {
  /** Features-table write units per event. */
  readonly writeUnitsPerEvent: number;
  /** Consumer read units per event (dedup markers, recent lists, window re-reads). */
  readonly readUnitsPerEvent: number;
}

/**
 * Consumed capacity per event at a given batch size (records per consumer invocation),
 * interpolated linearly in log(batch size) between the measured runs and clamped at their
 * ends. The batch size is what moves it: the window counters are written once per batch, and
 * the events of one shopper within a batch merge into one recent-items write.
 */
export function measuredCapacityAt(
  recordsPerInvocation: number,
  runs: readonly MeasuredRun[] = MEASURED_RUNS,
): MeasuredCapacity {
  const points = runs
    .map((r) => ({
      x: Math.log(r.events / r.invocations),
      w: r.writeUnits / r.events,
      r: r.readUnits / r.events,
    }))
    .sort((a, b) => a.x - b.x);
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) throw new Error('no measured runs');
  const x = Math.log(Math.max(1, recordsPerInvocation));
  if (x <= first.x) return { writeUnitsPerEvent: first.w, readUnitsPerEvent: first.r };
  if (x >= last.x) return { writeUnitsPerEvent: last.w, readUnitsPerEvent: last.r };
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (a && b && x <= b.x) {
      const t = b.x === a.x ? 0 : (x - a.x) / (b.x - a.x);
      return { writeUnitsPerEvent: a.w + t * (b.w - a.w), readUnitsPerEvent: a.r + t * (b.r - a.r) };
    }
  }
  return { writeUnitsPerEvent: last.w, readUnitsPerEvent: last.r };
}

/** Mean JSON bytes of a normalised generated event (Kinesis record, Firehose payload). */
export const MEASURED_EVENT_BYTES = Math.round(
  MEASURED_RUNS.reduce((s, r) => s + r.eventBytes * r.events, 0) /
    MEASURED_RUNS.reduce((s, r) => s + r.events, 0),
);
