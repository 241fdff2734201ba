/**
 * Demand history: an option of the shop generator for forecasting (docs/forecasting.md). It emits
 * purchase events (and cancellation documents) of the shop's catalog over a long period — 18
 * months by default — from a known demand process, so a forecaster's accuracy can be judged
 * against structure that is really there:
 *
 *   daily units of product p ~ NegBin(mean λ, shape 3), λ = base_p (Zipf: a long tail of
 *   intermittent products) × weekday profile (per category) × trend_p × yearly season
 *   × promotion uplift (price elasticity on the discount) × holiday/event effect
 *   × price-change effect,
 *
 * plus products launched during the period (new products), products that stop selling, a few
 * extreme bulk orders (outliers), cancellation documents (net demand) and optional days with no
 * data at all (gaps). The default shop generator (`generateShop`) is unchanged; this module
 * reuses its catalog and customers. Same options and seed → same events.
 */

import { Rng } from './random.ts';
import { type GeneratedEvent, generateShop, type Product } from './shop.ts';

export interface DemandHistoryOptions {
  readonly seed?: number;
  /** Products with demand (the first N of the generated catalog, by popularity rank). @default 200 */
  readonly products?: number;
  /** Days of history, ending the day before `end`. @default 540 */
  readonly days?: number;
  /** End of the period (epoch ms, exclusive; midnight UTC). @default 2026-11-30 */
  readonly end?: number;
  /** Mean daily units of the most popular product. @default 12 */
  readonly topRate?: number;
  /** Zipf exponent of product popularity (higher: longer, sparser tail). @default 0.9 */
  readonly zipf?: number;
  /** Dates (YYYY-MM-DD) whose data is missing entirely: no event at all that day. @default [] */
  readonly gapDays?: readonly string[];
  /** Share of orders followed by a cancellation document. @default 0.01 */
  readonly cancellationRate?: number;
  /** Customers. @default 2_000 */
  readonly users?: number;
}

export const DEFAULT_DEMAND_END = Date.parse('2026-11-30T00:00:00Z');
const DAY = 86_400_000;

/** Weekday multipliers, Monday first (ISO), and a second profile for weekend-heavy categories. */
const WEEKDAY = [0.9, 0.92, 0.97, 1.0, 1.12, 1.3, 0.79];
const WEEKEND_HEAVY = [0.75, 0.78, 0.85, 0.95, 1.15, 1.6, 0.92];
/** Price elasticity: units scale with (price / base price)^ELASTICITY. */
export const ELASTICITY = -2;

/** The holiday/event effects the generator plants (German public holidays + retail events). */
export function eventEffect(date: Date): number {
  const m = date.getUTCMonth() + 1;
  const d = date.getUTCDate();
  const md = `${m}-${d}`;
  if (['1-1', '5-1', '10-3', '12-25', '12-26'].includes(md)) return 0.35;
  const y = date.getUTCFullYear();
  const nov1 = Date.UTC(y, 10, 1);
  const firstThu = nov1 + ((3 - ((new Date(nov1).getUTCDay() + 6) % 7) + 7) % 7) * DAY;
  const bf = firstThu + 22 * DAY;
  if (date.getTime() === bf) return 2.6;
  if (date.getTime() === bf + 3 * DAY) return 1.8;
  if (m === 12 && d >= 1 && d <= 23) return 1.25;
  return 1;
}

interface Series {
  readonly product: Product;
  readonly base: number;
  readonly weekday: readonly number[];
  /** Growth per year (multiplicative, -0.4..+0.8). */
  readonly trend: number;
  readonly start: number;
  readonly stop: number;
  /** Day indexes of promotion starts (each lasts 7 days, 20 % off). */
  readonly promos: ReadonlySet<number>;
  /** Day index → relative base price from that day on (price changes). */
  readonly priceSteps: readonly { day: number; factor: number }[];
}

const NEGBIN_SHAPE = 3;

function negBin(rng: Rng, mean: number, shape = NEGBIN_SHAPE): number {
  if (mean <= 0) return 0;
  // Gamma(shape, mean/shape) by Marsaglia–Tsang, then Poisson.
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  let g = 0;
  for (;;) {
    const x = rng.normal();
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    if (Math.log(rng.next()) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
      g = d * v;
      break;
    }
  }
  const lambda = (g * mean) / shape;
  // Poisson: Knuth for small λ, normal approximation beyond.
  if (lambda > 60) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * rng.normal()));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k += 1;
    p *= rng.next();
  } while (p > l);
  return k - 1;
}

/** The demand history's purchase events (time order within each day), and what was planted. */
export function generateDemandHistory(options: DemandHistoryOptions = {}): {
  events: GeneratedEvent[];
  products: Product[];
  truth: {
    promotions: number;
    outliers: number;
    cancellations: number;
    newProducts: number;
    stopped: number;
  };
  /**
   * The planted process per product (same order as `products`) and day: the true mean λ of the
   * day's NegBin draw (NaN before launch, 0 after the product stopped) and the units drawn (outliers included,
   * before cancellations); `gapDay[d]` marks days left out of the events. For oracle figures.
   */
  expected: { mean: Float64Array[]; units: Float64Array[]; gapDay: boolean[]; shape: number };
} {
  const seed = options.seed ?? 7;
  const nProducts = options.products ?? 200;
  const days = options.days ?? 540;
  const end = options.end ?? DEFAULT_DEMAND_END;
  const startMs = end - days * DAY;
  const topRate = options.topRate ?? 12;
  const zipf = options.zipf ?? 0.9;
  const gaps = new Set(options.gapDays ?? []);
  const cancelRate = options.cancellationRate ?? 0.01;
  const shop = generateShop({
    seed,
    products: Math.max(nProducts, 10),
    users: options.users ?? 2_000,
    events: 0,
  });
  const products = [...shop.products]
    .sort((a, b) => a.popularity_rank - b.popularity_rank)
    .slice(0, nProducts);
  const customers = shop.customers;
  const rng = new Rng(seed * 7919 + 17);
  const weekendCats = new Set(shop.categories.filter((_, i) => i % 3 === 0).map((c) => c.name));
  const truth = { promotions: 0, outliers: 0, cancellations: 0, newProducts: 0, stopped: 0 };
  const series: Series[] = products.map((product, rank) => {
    const base = topRate / (rank + 1) ** zipf;
    const launch = rng.chance(0.04) ? days - 14 - rng.int(60) : 0;
    const stop = rng.chance(0.02) ? days - 30 - rng.int(90) : days;
    if (launch > 0) truth.newProducts += 1;
    if (stop < days) truth.stopped += 1;
    const promos = new Set<number>();
    for (let d = 20 + rng.int(40); d < days; d += 45 + rng.int(60)) promos.add(d);
    truth.promotions += promos.size;
    const priceSteps: { day: number; factor: number }[] = [];
    let factor = 1;
    for (let d = 60 + rng.int(120); d < days; d += 90 + rng.int(150)) {
      factor *= rng.chance(0.5) ? 1.1 : 0.92;
      priceSteps.push({ day: d, factor });
    }
    return {
      product,
      base,
      weekday: weekendCats.has(product.category) ? WEEKEND_HEAVY : WEEKDAY,
      trend: -0.4 + rng.next() * 1.2,
      start: launch,
      stop,
      promos,
      priceSteps,
    };
  });

  const expected = {
    mean: series.map(() => new Float64Array(days).fill(Number.NaN)),
    units: series.map(() => new Float64Array(days).fill(Number.NaN)),
    gapDay: new Array<boolean>(days).fill(false),
    shape: NEGBIN_SHAPE,
  };
  const events: GeneratedEvent[] = [];
  let orderNo = 0;
  let eventNo = 0;
  const prefix = `d${seed.toString(36)}-`;
  for (let day = 0; day < days; day++) {
    const t0 = startMs + day * DAY;
    const date = new Date(t0);
    const iso = date.toISOString().slice(0, 10);
    const dow = (date.getUTCDay() + 6) % 7;
    const season = 1 + 0.15 * Math.cos((2 * Math.PI * (date.getUTCMonth() - 11)) / 12);
    const event = eventEffect(date);
    const dayEvents: GeneratedEvent[] = [];
    expected.gapDay[day] = gaps.has(iso);
    for (const [si, s] of series.entries()) {
      if (day < s.start) continue;
      if (day >= s.stop) {
        (expected.mean[si] as Float64Array)[day] = 0;
        (expected.units[si] as Float64Array)[day] = 0;
        continue;
      }
      let promo = false;
      for (let k = 0; k < 7; k++) if (s.promos.has(day - k)) promo = true;
      let priceFactor = 1;
      for (const step of s.priceSteps) if (step.day <= day) priceFactor = step.factor;
      const discount = promo ? 0.8 : 1;
      const price = Math.round(s.product.price * priceFactor * discount * 100) / 100;
      const mean =
        s.base *
        (s.weekday[dow] ?? 1) *
        (1 + s.trend) ** (day / 365) *
        season *
        event *
        (priceFactor * discount) ** ELASTICITY;
      let units = negBin(rng, mean);
      if (rng.chance(0.0003)) {
        units += 20 + rng.int(60);
        truth.outliers += 1;
      }
      (expected.mean[si] as Float64Array)[day] = mean;
      (expected.units[si] as Float64Array)[day] = units;
      while (units > 0) {
        const q = Math.min(units, rng.chance(0.75) ? 1 : 2 + rng.int(2));
        units -= q;
        orderNo += 1;
        const customer = customers[rng.int(customers.length)];
        const time = t0 + rng.int(DAY - 1000);
        const order = `${prefix}o${orderNo.toString(36)}`;
        const purchase: GeneratedEvent = {
          event_id: `${prefix}${(++eventNo).toString(36)}`,
          event_type: 'purchase',
          event_time: new Date(time).toISOString(),
          session_id: `${prefix}s${orderNo.toString(36)}`,
          order_id: order,
          items: [{ product_id: s.product.product_id, quantity: q, price, category: s.product.category }],
          currency: 'EUR',
          page_type: 'confirmation',
        };
        if (customer) purchase.user_id = customer.customer_id;
        if (promo) purchase.discount_code = 'PROMO20';
        dayEvents.push(purchase);
        if (rng.chance(cancelRate) && time + 3_600_000 < t0 + DAY) {
          truth.cancellations += 1;
          dayEvents.push({
            ...purchase,
            event_id: `${prefix}${(++eventNo).toString(36)}`,
            event_time: new Date(time + 3_600_000).toISOString(),
            order_id: `C${order}`,
            order_status: 'cancelled',
          });
        }
      }
    }
    if (gaps.has(iso)) continue;
    dayEvents.sort((a, b) => a.event_time.localeCompare(b.event_time));
    events.push(...dayEvents);
  }
  return { events, products, truth, expected };
}

/** Quantile q of NegBin(shape r, mean μ) (the generator's Gamma–Poisson draw). */
export function negBinQuantile(mean: number, q: number, shape = NEGBIN_SHAPE): number {
  if (!(mean > 0)) return 0;
  const p = shape / (shape + mean);
  let pk = p ** shape;
  let cdf = pk;
  let k = 0;
  while (cdf < q - 1e-12 && k < 100_000) {
    k += 1;
    pk *= ((k + shape - 1) / k) * (1 - p);
    cdf += pk;
  }
  return k;
}

/**
 * What a forecaster that knew the planted process could achieve over the last `window` days
 * (the backtest's target days), against the units drawn, pooled like the backtest: WAPE of the
 * true mean, of the true median and of seasonal naive (same weekday last week), MASE of the true
 * mean (scaled by seasonal naive's in-sample error before the window) and the coverage of the
 * true 10 %–90 % quantiles (bounds included). A product counts from its first unit sold, like
 * the lake's series; gap days are left out.
 */
export function demandOracle(
  expected: ReturnType<typeof generateDemandHistory>['expected'],
  window = 56,
): {
  points: number;
  wape_mean: number;
  wape_median: number;
  wape_seasonal_naive: number;
  wape_zero: number;
  bias_mean: number;
  mase_mean: number;
  coverage80: number;
} {
  const days = expected.gapDay.length;
  const from = days - window;
  let sumY = 0;
  let errMean = 0;
  let sumMean = 0;
  let errMedian = 0;
  let errSn = 0;
  let snPoints = 0;
  let snSumY = 0;
  let inside = 0;
  let points = 0;
  let scaleErr = 0;
  let scaleN = 0;
  for (const [i, mean] of expected.mean.entries()) {
    const units = expected.units[i] as Float64Array;
    const first = units.findIndex((u) => u > 0);
    if (first < 0) continue;
    for (let d = first; d < days; d++) {
      if (expected.gapDay[d] || Number.isNaN(units[d] as number)) continue;
      const y = units[d] as number;
      const prev = d - 7 >= first && !expected.gapDay[d - 7] ? (units[d - 7] as number) : Number.NaN;
      if (d < from) {
        if (!Number.isNaN(prev)) {
          scaleErr += Math.abs(y - prev);
          scaleN += 1;
        }
        continue;
      }
      const m = mean[d] as number;
      points += 1;
      sumY += y;
      errMean += Math.abs(y - m);
      sumMean += m;
      errMedian += Math.abs(y - negBinQuantile(m, 0.5, expected.shape));
      const lo = negBinQuantile(m, 0.1, expected.shape);
      const hi = negBinQuantile(m, 0.9, expected.shape);
      if (lo <= y && y <= hi) inside += 1;
      if (!Number.isNaN(prev)) {
        errSn += Math.abs(y - prev);
        snSumY += y;
        snPoints += 1;
      }
    }
  }
  return {
    points,
    wape_mean: errMean / sumY,
    wape_median: errMedian / sumY,
    wape_seasonal_naive: snPoints ? errSn / snSumY : Number.NaN,
    wape_zero: sumY > 0 ? 1 : Number.NaN,
    bias_mean: sumMean / sumY - 1,
    mase_mean: errMean / points / (scaleErr / scaleN),
    coverage80: inside / points,
  };
}
