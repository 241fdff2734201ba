/**
 * Measures the consumer's DynamoDB capacity per event, item sizes and bytes per event for the
 * cost model (`local/cost/measure.ts`); its output lines are the `MEASURED_RUNS` of
 * `infra/cost/measured.ts`. Capacity units do not depend on machine load; the run time does.
 *
 * `npm run bench -- cost-inputs` measures the prod and dev configurations at 10 events/s (10
 * minutes of traffic each); run alone, `npx tsx bench/cost-inputs.bench.ts [eventsPerSecond
 * minutes shards windowSeconds]…` measures the given scenarios and prints one JSON line each.
 */
import { pathToFileURL } from 'node:url';
import { measureFeatureWrites, type WriteMeasurementOptions } from '../local/cost/measure.ts';

const DEFAULT_SCENARIOS: WriteMeasurementOptions[] = [
  { eventsPerSecond: 10, minutes: 10, shards: 4, batchingWindowSeconds: 1 },
  { eventsPerSecond: 10, minutes: 10, shards: 1, batchingWindowSeconds: 30 },
];

/** `npm run bench`: the two stage configurations at 10 events/s. */
export async function run(): Promise<Record<string, unknown>> {
  const [prodScenario, devScenario] = DEFAULT_SCENARIOS as [WriteMeasurementOptions, WriteMeasurementOptions];
  const prod = await measureFeatureWrites(prodScenario);
  const dev = await measureFeatureWrites(devScenario);
  return {
    prodWriteUnitsPerEvent: Number(prod.writeUnitsPerEvent.toFixed(3)),
    prodReadUnitsPerEvent: Number(prod.readUnitsPerEvent.toFixed(3)),
    devWriteUnitsPerEvent: Number(dev.writeUnitsPerEvent.toFixed(3)),
    devReadUnitsPerEvent: Number(dev.readUnitsPerEvent.toFixed(3)),
    eventBytes: dev.eventBytes,
    runs: { prod, dev },
  };
}

export async function main(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  const scenarios: WriteMeasurementOptions[] = [];
  for (let i = 0; i + 3 < args.length; i += 4) {
    const [eventsPerSecond, minutes, shards, batchingWindowSeconds] = args.slice(i, i + 4).map(Number);
    scenarios.push({
      eventsPerSecond: eventsPerSecond ?? 10,
      minutes: minutes ?? 10,
      shards: shards ?? 1,
      batchingWindowSeconds: batchingWindowSeconds ?? 1,
    });
  }
  for (const options of scenarios.length > 0 ? scenarios : DEFAULT_SCENARIOS) {
    const t = performance.now();
    const m = await measureFeatureWrites(options);
    const { eventsPerSecond, minutes, shards, batchingWindowSeconds } = options;
    console.log(
      JSON.stringify({
        eventsPerSecond,
        minutes,
        shards,
        batchingWindowSeconds,
        events: m.events,
        invocations: m.invocations,
        writeUnits: m.writeUnits,
        readUnits: m.readUnits,
        eventBytes: m.eventBytes,
        writeUnitsPerEvent: Number(m.writeUnitsPerEvent.toFixed(3)),
        readUnitsPerEvent: Number(m.readUnitsPerEvent.toFixed(3)),
        itemBytes: m.itemBytes,
        ms: Math.round(performance.now() - t),
      }),
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
