/** The cost model: line items are quantity × list price, scale with load, and inputs are checked. */
import { describe, expect, it } from 'vitest';
import { dev } from '../../infra/config/dev.ts';
import { prod } from '../../infra/config/prod.ts';
import { measuredCapacityAt } from '../../infra/cost/measured.ts';
import {
  assumptionsForStage,
  DEFAULT_ASSUMPTIONS,
  estimateFirstLoad,
  estimateMonthlyCost,
  GLUE_MINIMUM_MINUTES,
  HOURS_PER_MONTH,
  InvalidCostInputError,
  SECONDS_PER_MONTH,
  SERVICES,
} from '../../infra/cost/model.ts';
import { PRICES } from '../../infra/cost/prices.ts';
import { renderCost, renderFirstLoad } from '../../local/cli/commands/cost.ts';

const line = (estimate: ReturnType<typeof estimateMonthlyCost>, item: RegExp) => {
  const found = estimate.lines.find((l) => item.test(l.item));
  if (!found) throw new Error(`no line ${item}`);
  return found;
};

describe('estimateMonthlyCost', () => {
  it('prices API Gateway requests from batches and reads', () => {
    const e = estimateMonthlyCost(10);
    const events = 10 * SECONDS_PER_MONTH;
    const requests =
      events / DEFAULT_ASSUMPTIONS.eventsPerRequest +
      events * DEFAULT_ASSUMPTIONS.recommendationReadsPerEvent;
    const api = line(e, /^REST requests/);
    expect(api.quantity).toBeCloseTo(requests, 3);
    expect(api.usd).toBeCloseTo((requests / 1e6) * 3.5, 6);
    expect(e.byService['API Gateway']).toBeCloseTo(api.usd, 9);
  });

  it('charges Kinesis on-demand a stream-hour floor even without traffic', () => {
    const idle = estimateMonthlyCost(0, { streamMode: 'on-demand', featuresTableBilling: 'on-demand' });
    expect(idle.byService['Kinesis Data Streams']).toBeCloseTo(
      HOURS_PER_MONTH * PRICES.kinesisOnDemandStreamHour.usd,
      9,
    );
    expect(idle.byService.DynamoDB).toBeCloseTo(
      DEFAULT_ASSUMPTIONS.dynamoGb * (PRICES.dynamoDbStorageGbMonth.usd + PRICES.dynamoDbPitrGbMonth.usd),
      9,
    );
    expect(idle.byService['Data Firehose']).toBe(0);
  });

  it('charges a provisioned stream per shard-hour and 25 KB payload unit, with no retrieval line', () => {
    const e = estimateMonthlyCost(10, { streamMode: 'provisioned', streamShards: 2 });
    expect(line(e, /^provisioned shard-hours/).quantity).toBe(2 * HOURS_PER_MONTH);
    expect(line(e, /^PUT payload units/).quantity).toBeCloseTo(10 * SECONDS_PER_MONTH, 3);
    expect(e.lines.some((l) => /GB read/.test(l.item))).toBe(false);
    expect(e.byService['Kinesis Data Streams']).toBeCloseTo(
      2 * HOURS_PER_MONTH * 0.015 + ((10 * SECONDS_PER_MONTH) / 1e6) * 0.014,
      9,
    );
  });

  it('prices a provisioned features table at the scaled-to capacity over the target utilisation', () => {
    const writeUnitsPerEvent = 2;
    const e = estimateMonthlyCost(10, {
      featuresTableBilling: 'provisioned',
      provisionedTargetUtilization: 0.5,
      provisionedMinUnits: 5,
      writeUnitsPerEvent,
      consumerReadUnitsPerEvent: 0.1,
    });
    // 20 WCU/s consumed at 50% utilisation = 40 provisioned; reads 1 RCU/s → the floor of 5.
    expect(line(e, /provisioned write units/).quantity).toBeCloseTo(40 * HOURS_PER_MONTH, 6);
    expect(line(e, /provisioned read units/).quantity).toBeCloseTo(5 * HOURS_PER_MONTH, 6);
    const onDemand = estimateMonthlyCost(10, { featuresTableBilling: 'on-demand', writeUnitsPerEvent });
    expect(line(onDemand, /write request units/).quantity).toBeCloseTo(20 * SECONDS_PER_MONTH, 3);
  });

  it('uses the measured consumer capacity at the batch size the stage produces', () => {
    const e = estimateMonthlyCost(10);
    // dev: 1 shard, 30 s window → 300 records per invocation
    const expected = measuredCapacityAt(10 * DEFAULT_ASSUMPTIONS.consumerBatchingWindowSeconds, 10);
    expect(e.assumptions.writeUnitsPerEvent).toBeCloseTo(expected.writeUnitsPerEvent, 9);
    expect(e.assumptions.consumerReadUnitsPerEvent).toBeCloseTo(expected.readUnitsPerEvent, 9);
    // prod's 4 shards × 1 s windows give small batches: more units per event
    const p = estimateMonthlyCost(10, assumptionsForStage(prod));
    expect(p.assumptions.writeUnitsPerEvent ?? 0).toBeGreaterThan(e.assumptions.writeUnitsPerEvent ?? 0);
  });

  it('traces the API with the stage sampling rule and maintains tables with Glue or the ETL', () => {
    const devEstimate = estimateMonthlyCost(10, assumptionsForStage(dev));
    const prodEstimate = estimateMonthlyCost(10, assumptionsForStage(prod));
    const traces = (e: typeof devEstimate) => line(e, /^traces recorded/).quantity;
    expect(traces(devEstimate)).toBeLessThan(traces(prodEstimate) / 5);
    expect(devEstimate.byService['Glue table optimizers']).toBe(0);
    expect(devEstimate.lines.some((l) => /ETL maintenance/.test(l.item))).toBe(true);
    expect(prodEstimate.byService['Glue table optimizers']).toBeGreaterThan(10);
  });

  it('costs the dev stage at most $60 a month at 10 events/s (the cheaper-deployment target)', () => {
    const e = estimateMonthlyCost(10, assumptionsForStage(dev));
    expect(e.totalUsd).toBeLessThanOrEqual(60);
    expect(e.totalUsd).toBeGreaterThan(30);
  });

  it('rounds Kinesis records up to 1 KB but bills Firehose on actual bytes', () => {
    const e = estimateMonthlyCost(1, { eventBytes: 1100, streamMode: 'on-demand' });
    const gb = 1024 ** 3;
    expect(line(e, /^GB written/).quantity).toBeCloseTo((SECONDS_PER_MONTH * 2048) / gb, 9);
    expect(line(e, /^GB delivered to Iceberg/).quantity).toBeCloseTo((SECONDS_PER_MONTH * 1100) / gb, 9);
  });

  it('grows roughly linearly in the event-driven services', () => {
    const ten = estimateMonthlyCost(10);
    const hundred = estimateMonthlyCost(100);
    expect(hundred.byService.DynamoDB / ten.byService.DynamoDB).toBeGreaterThan(7);
    expect(hundred.byService['API Gateway'] / ten.byService['API Gateway']).toBeCloseTo(10, 6);
    expect(hundred.totalUsd).toBeGreaterThan(ten.totalUsd);
    expect(ten.totalUsd).toBeGreaterThan(estimateMonthlyCost(1).totalUsd);
  });

  it('adds the API cache and QuickSight only when asked', () => {
    const base = estimateMonthlyCost(10);
    const withExtras = estimateMonthlyCost(10, {
      apiCache: true,
      quickSightAuthors: 2,
      quickSightReaders: 10,
    });
    expect(withExtras.byService['API Gateway'] - base.byService['API Gateway']).toBeCloseTo(
      HOURS_PER_MONTH * 0.02,
      9,
    );
    expect(base.byService.QuickSight).toBe(0);
    expect(withExtras.byService.QuickSight).toBeCloseTo(2 * 24 + 10 * 3, 9);
  });

  it('sums lines into services and services into the total', () => {
    const e = estimateMonthlyCost(42);
    const sum = SERVICES.reduce((s, name) => s + e.byService[name], 0);
    expect(e.totalUsd).toBeCloseTo(sum, 9);
    for (const l of e.lines) expect(l.usd).toBeCloseTo((l.quantity / l.perUnits) * PRICES[l.price].usd, 9);
    expect(e.lines.length).toBeGreaterThan(15);
  });

  it('rejects a negative or non-finite rate and bad assumptions', () => {
    expect(() => estimateMonthlyCost(-1)).toThrow(InvalidCostInputError);
    expect(() => estimateMonthlyCost(Number.NaN)).toThrow(InvalidCostInputError);
    expect(() => estimateMonthlyCost(1, { eventBytes: -5 })).toThrow(/eventBytes/);
    expect(() => estimateMonthlyCost(1, { eventsPerRequest: 0 })).toThrow(/eventsPerRequest/);
  });
});

describe('prices', () => {
  it('names a source page and date for every price', () => {
    for (const [name, price] of Object.entries(PRICES)) {
      expect(price.source, name).toMatch(/^https:\/\/aws\.amazon\.com\//);
      expect(price.asOf, name).toMatch(/^\d{4}-\d{2}$/);
      expect(price.usd, name).toBeGreaterThan(0);
    }
  });
});

describe('renderCost', () => {
  it('prints every service, the total and the assumptions', () => {
    const text = renderCost(estimateMonthlyCost(10));
    for (const s of SERVICES.filter((x) => x !== 'QuickSight')) expect(text).toContain(s);
    expect(text).toMatch(/Total\s+\$\d/);
    expect(text).toContain('Assumptions:');
    expect(text).toContain('26,280,000 events/month');
    expect(text).toContain('https://aws.amazon.com/dynamodb/pricing/provisioned/');
  });
});

describe('Glue extract jobs (DPU-hours)', () => {
  it('costs nothing for a stage without batch sources', () => {
    expect(assumptionsForStage(dev).extractJobs).toBe(0);
    expect(estimateMonthlyCost(10).byService['Glue extract jobs']).toBe(0);
  });

  it('bills each source job once per ETL run at its DPUs, at least the 1-minute minimum', () => {
    const e = estimateMonthlyCost(10, { extractJobs: 2, extractJobDpus: 2, extractMinutesPerRun: 2 });
    // 2 jobs x 30 runs x 2 DPU x 2 min = 4 DPU-hours at $0.44
    expect(line(e, /^DPU-hours \(2 source/).quantity).toBeCloseTo(4, 10);
    expect(e.byService['Glue extract jobs']).toBeCloseTo(4 * 0.44, 10);
    expect(PRICES.glueSparkJobDpuHour.usd).toBe(0.44);
    expect(PRICES.glueSparkJobDpuHour.source).toBe('https://aws.amazon.com/glue/pricing/');
    const short = estimateMonthlyCost(10, { extractJobs: 1, extractJobDpus: 2, extractMinutesPerRun: 0.1 });
    expect(GLUE_MINIMUM_MINUTES).toBe(1);
    expect(short.byService['Glue extract jobs']).toBeCloseTo(((30 * 2 * 1) / 60) * 0.44, 10);
  });

  it('takes the jobs and their DPUs from the stage sources', () => {
    const source = {
      jdbcUrl: 'jdbc:postgresql://db.internal/shop',
      secret: 'shoplake/oltp',
      subnets: [{ subnetId: 'subnet-0123456789abcdef0', availabilityZone: 'us-east-1a' }],
      securityGroupIds: ['sg-0123456789abcdef0'],
    };
    const stage = {
      ...dev,
      sources: {
        oltp: { ...source, job: { workerType: 'G.2X' as const, numberOfWorkers: 4, timeoutMinutes: 60 } },
        marketing: source,
      },
    };
    const a = assumptionsForStage(stage);
    expect(a.extractJobs).toBe(2);
    expect(a.extractJobDpus).toBe(8);
  });

  it('prices the first load: rows at the job pace plus the fixed minutes, with the minimum', () => {
    const f = estimateFirstLoad(1_000_000, {
      extractJobDpus: 2,
      extractRowsPerSecond: 20_000,
      extractMinutesPerRun: 2,
    });
    expect(f.minutes).toBeCloseTo(2 + 1_000_000 / 20_000 / 60, 10);
    expect(f.dpuHours).toBeCloseTo((2 * f.minutes) / 60, 10);
    expect(f.usd).toBeCloseTo(f.dpuHours * 0.44, 10);
    expect(estimateFirstLoad(0, { extractMinutesPerRun: 0.1 }).minutes).toBe(1);
    expect(() => estimateFirstLoad(-1)).toThrow(InvalidCostInputError);
    expect(() => estimateFirstLoad(10, { extractRowsPerSecond: 0 })).toThrow(/extractRowsPerSecond/);
    expect(renderFirstLoad(f)).toContain('https://aws.amazon.com/glue/pricing/');
  });
});
