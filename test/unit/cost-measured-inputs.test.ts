/**
 * The cost model's measured inputs (`infra/cost/measured.ts`) against a fresh measurement: the
 * real stream-consumer handler on generated traffic against the DynamoDB emulator, consumed
 * capacity as DynamoDB reports it (`ReturnConsumedCapacity`), item sizes, bytes per event.
 */
import { describe, expect, it } from 'vitest';
import {
  MEASURED_EVENT_BYTES,
  MEASURED_ITEM_BYTES,
  MEASURED_RUNS,
  measuredCapacityAt,
} from '../../infra/cost/measured.ts';
import { measureFeatureWrites } from '../../local/cost/measure.ts';

describe('measured cost inputs', () => {
  it('interpolates capacity per event between the measured runs by batch size, clamped at the ends', () => {
    for (const run of MEASURED_RUNS) {
      const at = measuredCapacityAt(run.events / run.invocations);
      // runs at different rates share a batch size only approximately: within 15%
      expect(at.writeUnitsPerEvent / (run.writeUnits / run.events)).toBeGreaterThan(0.85);
      expect(at.writeUnitsPerEvent / (run.writeUnits / run.events)).toBeLessThan(1.15);
    }
    const small = measuredCapacityAt(1);
    const large = measuredCapacityAt(100_000);
    expect(small.writeUnitsPerEvent).toBeGreaterThan(large.writeUnitsPerEvent);
    // a dedup marker per event is at least one write unit, whatever the batching
    expect(large.writeUnitsPerEvent).toBeGreaterThanOrEqual(1);
  });

  it('re-measures a short run of the dev configuration close to the recorded figures', async () => {
    const m = await measureFeatureWrites({
      eventsPerSecond: 10,
      minutes: 3,
      shards: 1,
      batchingWindowSeconds: 10,
    });
    expect(m.events).toBe(1_800);
    // every record in exactly one batch, at most one batch per shard and window
    expect(m.invocations).toBeLessThanOrEqual(3 * 6 + 1);
    expect(m.invocations).toBeGreaterThan(5);
    const expected = measuredCapacityAt(m.events / m.invocations);
    expect(m.writeUnitsPerEvent).toBeGreaterThan(expected.writeUnitsPerEvent * 0.8);
    expect(m.writeUnitsPerEvent).toBeLessThan(expected.writeUnitsPerEvent * 1.2);
    expect(m.readUnitsPerEvent).toBeGreaterThan(expected.readUnitsPerEvent * 0.8);
    expect(m.readUnitsPerEvent).toBeLessThan(expected.readUnitsPerEvent * 1.2);
    expect(Math.abs(m.eventBytes - MEASURED_EVENT_BYTES)).toBeLessThan(MEASURED_EVENT_BYTES * 0.1);
    // one marker per accepted event, each under 1 KB (so 1 WCU) and of the recorded size
    expect(
      Math.abs((m.itemBytes['dedup marker']?.meanBytes ?? 0) - MEASURED_ITEM_BYTES.dedupMarker),
    ).toBeLessThan(10);
    expect(m.itemBytes['dedup marker']?.maxBytes).toBeLessThan(1024);
    expect(m.itemBytes['dedup marker']?.items).toBeGreaterThan(m.events * 0.9);
    expect(m.itemBytes['window counters']?.items).toBeGreaterThan(0);
  }, 240_000);
});
