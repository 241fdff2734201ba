/** The cost model: line items are quantity × list price, scale with load, and inputs are checked. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ASSUMPTIONS,
  estimateMonthlyCost,
  HOURS_PER_MONTH,
  InvalidCostInputError,
  SECONDS_PER_MONTH,
  SERVICES,
} from '../../infra/cost/model.ts';
import { PRICES } from '../../infra/cost/prices.ts';
import { renderCost } from '../../local/cli/commands/cost.ts';

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
    const idle = estimateMonthlyCost(0);
    expect(idle.byService['Kinesis Data Streams (on-demand)']).toBeCloseTo(
      HOURS_PER_MONTH * PRICES.kinesisOnDemandStreamHour.usd,
      9,
    );
    expect(idle.byService['DynamoDB (on-demand)']).toBeCloseTo(
      DEFAULT_ASSUMPTIONS.dynamoGb * (PRICES.dynamoDbStorageGbMonth.usd + PRICES.dynamoDbPitrGbMonth.usd),
      9,
    );
    expect(idle.byService['Data Firehose']).toBe(0);
  });

  it('rounds Kinesis records up to 1 KB but bills Firehose on actual bytes', () => {
    const e = estimateMonthlyCost(1, { eventBytes: 1100 });
    const gb = 1024 ** 3;
    expect(line(e, /^GB written/).quantity).toBeCloseTo((SECONDS_PER_MONTH * 2048) / gb, 9);
    expect(line(e, /^GB delivered to Iceberg/).quantity).toBeCloseTo((SECONDS_PER_MONTH * 1100) / gb, 9);
  });

  it('grows roughly linearly in the event-driven services', () => {
    const ten = estimateMonthlyCost(10);
    const hundred = estimateMonthlyCost(100);
    expect(hundred.byService['DynamoDB (on-demand)'] / ten.byService['DynamoDB (on-demand)']).toBeGreaterThan(
      9,
    );
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
    expect(text).toContain('https://aws.amazon.com/dynamodb/pricing/on-demand/');
  });
});
