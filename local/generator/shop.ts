/**
 * Synthetic shop: a seeded, reproducible catalog, customer base and clickstream.
 *
 * Why it exists: the demo, the integration tests and the benchmarks need realistic traffic
 * without real customer data — a purchase funnel (view → cart → checkout → purchase),
 * Zipf-like product popularity, co-purchase structure (products belong to latent themes and
 * each customer prefers a few themes, so collaborative filtering finds real signal), anonymous
 * sessions that log in half-way, campaigns, searches, reviews, recommendation clicks, and the
 * dirt real pipelines see: duplicates, late and out-of-order events.
 *
 * Output events are wire objects (the ingest API's input): they pass `parseEvent`.
 * The same options and seed always give the same shop and the same event sequence.
 */

import type { EventType } from '../../lambdas/shared/event-schema.ts';
import { newVersion } from '../../lambdas/shared/recommender/version.ts';
import { AliasTable, Rng, zipfWeights } from './random.ts';

export interface ShopRates {
  /** Share of emitted records that are an exact re-send of an earlier event (same event_id). */
  readonly duplicate: number;
  /** Share of events emitted late: long after events that happened after them. */
  readonly late: number;
  /** Share of events swapped with the next event of their session. */
  readonly outOfOrder: number;
  /** Share of sessions that start anonymous. */
  readonly anonymous: number;
  /** Share of anonymous sessions whose visitor logs in mid-session (user_id appears). */
  readonly loginMidSession: number;
  /** Share of sessions arriving from a marketing campaign (utm_* on the landing page view). */
  readonly campaign: number;
  /** Share of product views that come from a recommendation click (carry rec_id). */
  readonly recClick: number;
  /** Share of sessions that search. */
  readonly search: number;
  /** Share of purchases followed by a review. */
  readonly review: number;
}

export interface ShopFunnel {
  /** Probability that a product view leads to add_to_cart. */
  readonly cart: number;
  /** Probability that a session with a non-empty cart begins checkout. */
  readonly checkout: number;
  /** Probability that a checkout becomes a purchase. */
  readonly purchase: number;
}

export interface ShopOptions {
  readonly seed?: number;
  /** Number of records the event iterator yields, duplicates included. @default 10_000 */
  readonly events?: number;
  /** Registered customers. @default 2_000 */
  readonly users?: number;
  /** Catalog size. @default 1_000 */
  readonly products?: number;
  /** Time span covered by the events, ending at `end`. @default 2 */
  readonly days?: number;
  /** End of the generated period (epoch ms). @default Date.now() at call time */
  readonly end?: number;
  readonly rates?: Partial<ShopRates>;
  readonly funnel?: Partial<ShopFunnel>;
}

export const DEFAULT_SHOP_RATES: ShopRates = {
  duplicate: 0.02,
  late: 0.01,
  outOfOrder: 0.02,
  anonymous: 0.35,
  loginMidSession: 0.4,
  campaign: 0.25,
  recClick: 0.08,
  search: 0.3,
  review: 0.15,
};

export const DEFAULT_SHOP_FUNNEL: ShopFunnel = { cart: 0.12, checkout: 0.6, purchase: 0.75 };

export interface Category {
  readonly category_id: string;
  readonly name: string;
  readonly parent: string | null;
}

export interface Product {
  readonly product_id: string;
  readonly name: string;
  /** Category name, as events carry it. */
  readonly category: string;
  readonly category_id: string;
  readonly price: number;
  readonly currency: string;
  /** Latent co-purchase theme (the signal collaborative filtering should recover). */
  readonly theme: number;
  /** Popularity rank (0 = most popular). */
  readonly popularity_rank: number;
  readonly stock: number;
  readonly created_at: string;
}

export interface Customer {
  readonly customer_id: string;
  readonly email: string;
  readonly name: string;
  readonly country: string;
  readonly city: string;
  readonly segment: 'consumer' | 'business';
  readonly signup_at: string;
  /** Preferred themes (latent). */
  readonly themes: readonly number[];
}

/** One event as the ingest API receives it (fields absent when unset, like real clients). */
export interface GeneratedEvent {
  event_id: string;
  event_type: EventType;
  event_time: string;
  session_id: string;
  user_id?: string;
  product_id?: string;
  category?: string;
  price?: number;
  quantity?: number;
  currency?: string;
  order_id?: string;
  items?: { product_id: string; quantity: number; price: number; category?: string }[];
  rating?: number;
  text?: string;
  query?: string;
  page_type?: string;
  referrer?: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  discount_code?: string;
  device?: string;
  rec_id?: string;
  /** Purchases only: `cancelled` for a cancellation document (demand history option). */
  order_status?: 'placed' | 'cancelled';
}

export interface GeneratedShop {
  readonly seed: number;
  readonly start: number;
  readonly end: number;
  readonly rates: ShopRates;
  readonly funnel: ShopFunnel;
  readonly categories: readonly Category[];
  readonly products: readonly Product[];
  readonly customers: readonly Customer[];
  /** A fresh iterator over the event stream; every call yields the same sequence. */
  events(): IterableIterator<GeneratedEvent>;
}

const CATEGORY_TREE: readonly [string, readonly string[], number][] = [
  ['Home & Kitchen', ['Cookware', 'Tableware', 'Storage'], 25],
  ['Garden', ['Plants', 'Tools'], 30],
  ['Electronics', ['Audio', 'Phones & Accessories', 'Computers'], 120],
  ['Fashion', ['Women', 'Men', 'Shoes'], 45],
  ['Sports', ['Outdoor', 'Fitness'], 40],
  ['Toys & Games', ['Board Games', 'Puzzles'], 20],
  ['Books', ['Fiction', 'Non-fiction'], 15],
  ['Beauty', ['Skincare', 'Fragrance'], 22],
];

const ADJECTIVES = ['Classic', 'Vintage', 'Modern', 'Compact', 'Deluxe', 'Eco', 'Smart', 'Mini', 'Pro'];
const NOUNS = ['Set', 'Kit', 'Box', 'Lamp', 'Mug', 'Bag', 'Speaker', 'Jacket', 'Bottle', 'Game'];
const COUNTRIES = ['GB', 'GB', 'GB', 'GB', 'DE', 'FR', 'NL', 'IE', 'ES', 'US'];
const CITIES = ['London', 'Leeds', 'Bristol', 'Berlin', 'Paris', 'Amsterdam', 'Dublin', 'Madrid'];
const FIRST = ['Ada', 'Ben', 'Cleo', 'Dev', 'Eva', 'Finn', 'Gus', 'Hana', 'Ivo', 'Jade', 'Kai', 'Lea'];
const LAST = ['Smith', 'Jones', 'Brown', 'Meyer', 'Martin', 'Jansen', 'Murphy', 'Garcia', 'Rossi'];
const DEVICES = ['mobile', 'mobile', 'mobile', 'desktop', 'desktop', 'tablet'];
const CAMPAIGNS: readonly [string, string, string][] = [
  ['newsletter', 'email', 'black-friday'],
  ['google', 'cpc', 'brand-search'],
  ['instagram', 'social', 'spring-collection'],
  ['partner-blog', 'referral', 'gift-guide'],
];
const REVIEW_TEXT = [
  'Great value, would buy again.',
  'Arrived quickly, as described.',
  'Not quite what I expected.',
  'Excellent quality!',
  'OK for the price.',
];

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** Sunday 1970-01-04 04:00 UTC: the weekly training schedule's first slot after the epoch. */
const TRAINING_ANCHOR_MS = 3 * DAY_MS + 4 * 3_600_000;

/**
 * The `rec_id` a recommendation clicked at `t` would carry, in the API's format
 * (`<model version>:<12 hex>`, see `recId`): the version is the one the weekly training
 * (Sundays 04:00 UTC, the default schedule) activated last before `t`, so the lake sees
 * click-through move from one model version to the next.
 */
export function generatedRecId(t: number, n: number): string {
  const trainedAt = TRAINING_ANCHOR_MS + Math.floor((t - TRAINING_ANCHOR_MS) / WEEK_MS) * WEEK_MS;
  return `${newVersion(new Date(trainedAt), 'gen')}:${n.toString(16).padStart(12, '0')}`;
}
/** Sessions start at least this long before `end`, so most of them finish inside the period. */
const SESSION_END_GUARD_MS = 5 * 60_000;

interface Resolved {
  seed: number;
  events: number;
  users: number;
  products: number;
  days: number;
  end: number;
  rates: ShopRates;
  funnel: ShopFunnel;
}

function resolve(options: ShopOptions): Resolved {
  const r: Resolved = {
    seed: options.seed ?? 42,
    events: options.events ?? 10_000,
    users: options.users ?? 2_000,
    products: options.products ?? 1_000,
    days: options.days ?? 2,
    end: options.end ?? Date.now(),
    rates: { ...DEFAULT_SHOP_RATES, ...options.rates },
    funnel: { ...DEFAULT_SHOP_FUNNEL, ...options.funnel },
  };
  if (!Number.isInteger(r.events) || r.events < 0) throw new RangeError('events must be an integer ≥ 0');
  if (!Number.isInteger(r.users) || r.users < 1) throw new RangeError('users must be an integer ≥ 1');
  if (!Number.isInteger(r.products) || r.products < 10) throw new RangeError('products must be ≥ 10');
  if (!(r.days > 0)) throw new RangeError('days must be > 0');
  for (const [k, v] of Object.entries({ ...r.rates, ...r.funnel })) {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`rate ${k} must be within [0, 1]`);
  }
  return r;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Builds the catalog, customers and a replayable event stream from a seed. */
export function generateShop(options: ShopOptions = {}): GeneratedShop {
  const o = resolve(options);
  const root = new Rng(o.seed);
  const start = o.end - o.days * DAY_MS;

  // Catalog -----------------------------------------------------------------------------------
  const catRng = root.fork(1);
  const categories: Category[] = [];
  const leafCats: { id: string; name: string; basePrice: number }[] = [];
  CATEGORY_TREE.forEach(([parent, leaves, basePrice], i) => {
    const parentId = `c${pad(i + 1, 2)}`;
    categories.push({ category_id: parentId, name: parent, parent: null });
    leaves.forEach((leaf, j) => {
      const id = `${parentId}-${pad(j + 1, 2)}`;
      categories.push({ category_id: id, name: leaf, parent: parentId });
      leafCats.push({ id, name: leaf, basePrice });
    });
  });
  const themeCount = Math.max(4, Math.round(o.products / 25));
  // Each theme draws from two neighbouring categories ("barbecue": garden tools + cookware).
  const themeCats = Array.from({ length: themeCount }, () => [
    catRng.int(leafCats.length),
    catRng.int(leafCats.length),
  ]);
  const products: Product[] = [];
  for (let i = 0; i < o.products; i += 1) {
    const theme = i % themeCount;
    const leafIndex = (themeCats[theme] as number[])[catRng.int(2)] as number;
    const leaf = leafCats[leafIndex] as (typeof leafCats)[number];
    const price = Math.max(0.99, Math.round(leaf.basePrice * Math.exp(0.6 * catRng.normal())) - 0.01);
    products.push({
      product_id: `P${pad(i + 1, 6)}`,
      name: `${catRng.pick(ADJECTIVES)} ${leaf.name} ${catRng.pick(NOUNS)}`,
      category: leaf.name,
      category_id: leaf.id,
      price,
      currency: 'EUR',
      theme,
      popularity_rank: 0,
      stock: catRng.int(10) === 0 ? 0 : catRng.range(1, 500),
      created_at: new Date(start - catRng.range(30, 720) * DAY_MS).toISOString(),
    });
  }
  // Popularity: a random permutation assigns Zipf ranks, so popular items spread over themes.
  const order = products.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = catRng.int(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const rankOf = new Int32Array(products.length);
  order.forEach((productIndex, rank) => {
    rankOf[productIndex] = rank;
  });
  for (let i = 0; i < products.length; i += 1) {
    (products[i] as { popularity_rank: number }).popularity_rank = rankOf[i] as number;
  }
  const globalWeights = zipfWeights(products.length, 1.07);
  const globalTable = new AliasTable(products.map((_, i) => globalWeights[rankOf[i] as number] as number));
  const themeMembers: number[][] = Array.from({ length: themeCount }, () => []);
  products.forEach((p, i) => {
    themeMembers[p.theme]?.push(i);
  });
  const themeTables = themeMembers.map(
    (members) => new AliasTable(members.map((i) => globalWeights[rankOf[i] as number] as number)),
  );

  // Customers ---------------------------------------------------------------------------------
  const custRng = root.fork(2);
  const customers: Customer[] = [];
  for (let i = 0; i < o.users; i += 1) {
    const first = custRng.pick(FIRST);
    const last = custRng.pick(LAST);
    const themes = [custRng.int(themeCount), custRng.int(themeCount)];
    if (custRng.chance(0.4)) themes.push(custRng.int(themeCount));
    customers.push({
      customer_id: `U${pad(i + 1, 7)}`,
      email: `${first.toLowerCase()}.${last.toLowerCase()}.${i + 1}@example.com`,
      name: `${first} ${last}`,
      country: custRng.pick(COUNTRIES),
      city: custRng.pick(CITIES),
      segment: custRng.chance(0.1) ? 'business' : 'consumer',
      signup_at: new Date(start - custRng.range(1, 900) * DAY_MS - custRng.int(DAY_MS)).toISOString(),
      themes,
    });
  }
  const activity = new AliasTable(zipfWeights(customers.length, 0.8));

  const eventSeed = root.int(0x7fffffff);
  return {
    seed: o.seed,
    start,
    end: o.end,
    rates: o.rates,
    funnel: o.funnel,
    categories,
    products,
    customers,
    events: () =>
      eventStream(o, start, eventSeed, products, customers, {
        globalTable,
        themeMembers,
        themeTables,
        activity,
        themeCount,
      }),
  };
}

interface Samplers {
  globalTable: AliasTable;
  themeMembers: number[][];
  themeTables: AliasTable[];
  activity: AliasTable;
  themeCount: number;
}

function* eventStream(
  o: Resolved,
  start: number,
  eventSeed: number,
  products: readonly Product[],
  customers: readonly Customer[],
  s: Samplers,
): IterableIterator<GeneratedEvent> {
  const rng = new Rng(eventSeed);
  const { rates, funnel } = o;
  const target = o.events;
  const span = Math.max(60_000, o.end - SESSION_END_GUARD_MS - start);
  const idPrefix = `g${o.seed.toString(36)}-`;
  let emitted = 0;
  let counter = 0;
  let sessionNo = 0;
  let orderNo = 0;
  const held: { due: number; event: GeneratedEvent }[] = [];
  /** Smallest `due` among held events: the held list is scanned only when one is due. */
  let nextDue = Number.POSITIVE_INFINITY;
  const sessionEvents: GeneratedEvent[] = [];

  const nextId = () => {
    counter += 1;
    return idPrefix + counter.toString(36);
  };

  while (emitted + held.length < target) {
    // Session start follows progress through the event budget, so events cover the period.
    const t0 = start + Math.floor(span * ((emitted + held.length) / target)) + rng.int(60_000);
    sessionNo += 1;
    buildSession(t0);
    for (let i = 0; i < sessionEvents.length && emitted + held.length < target; i += 1) {
      let event = sessionEvents[i] as GeneratedEvent;
      const nextEvent = sessionEvents[i + 1];
      if (nextEvent && rng.chance(rates.outOfOrder)) {
        // Emit the next event first: a client flushing its buffer out of order.
        sessionEvents[i + 1] = event;
        event = nextEvent;
      }
      if (rng.chance(rates.late)) {
        const due = emitted + 200 + rng.int(2_000);
        held.push({ due, event });
        if (due < nextDue) nextDue = due;
      } else {
        yield event;
        emitted += 1;
      }
      if (rng.chance(rates.duplicate) && emitted + held.length < target) {
        const due = emitted + rng.int(300);
        held.push({ due, event: { ...event } });
        if (due < nextDue) nextDue = due;
      }
      if (emitted < nextDue) continue;
      // Release what is due (in hold order) and find the next due position.
      nextDue = Number.POSITIVE_INFINITY;
      for (let h = held.length - 1; h >= 0; h -= 1) {
        const entry = held[h] as (typeof held)[number];
        if (entry.due > emitted) {
          if (entry.due < nextDue) nextDue = entry.due;
          continue;
        }
        held.splice(h, 1);
        yield entry.event;
        emitted += 1;
      }
    }
  }
  held.sort((a, b) => a.due - b.due);
  for (const entry of held) {
    if (emitted >= target) break;
    yield entry.event;
    emitted += 1;
  }

  function buildSession(t0: number): void {
    sessionEvents.length = 0;
    const sessionId = `S${o.seed.toString(36)}-${sessionNo.toString(36)}`;
    const customer = customers[s.activity.sample(rng)] as Customer;
    const anonymous = rng.chance(rates.anonymous);
    const loginAt = anonymous ? (rng.chance(rates.loginMidSession) ? 1 + rng.int(6) : -1) : 0;
    const device = rng.pick(DEVICES);
    const campaign = rng.chance(rates.campaign) ? rng.pick(CAMPAIGNS) : undefined;
    let t = t0;
    const limit = o.end;
    const push = (e: Omit<GeneratedEvent, 'event_id' | 'event_time' | 'session_id'>): boolean => {
      if (t > limit) return false;
      const event = e as GeneratedEvent;
      event.event_id = nextId();
      event.event_time = new Date(t).toISOString();
      event.session_id = sessionId;
      event.device = device;
      const index = sessionEvents.length;
      if (loginAt >= 0 && index >= loginAt) event.user_id = customer.customer_id;
      sessionEvents.push(event);
      t += 2_000 + Math.floor(rng.exponential(35_000));
      return true;
    };

    const landing: Omit<GeneratedEvent, 'event_id' | 'event_time' | 'session_id'> = {
      event_type: 'page_view',
      page_type: 'home',
    };
    if (campaign) {
      landing.page_type = 'landing';
      landing.utm_source = campaign[0];
      landing.utm_medium = campaign[1];
      landing.utm_campaign = campaign[2];
      landing.referrer = `https://${campaign[0]}.example/`;
    }
    push(landing);

    const cart = new Map<number, number>();
    const views = 1 + Math.floor(rng.exponential(4));
    const searches = rng.chance(rates.search);
    for (let v = 0; v < views; v += 1) {
      let productIndex: number;
      if (rng.chance(0.7)) {
        const theme = rng.pick(customer.themes);
        const members = s.themeMembers[theme] as number[];
        productIndex = members[(s.themeTables[theme] as AliasTable).sample(rng)] as number;
      } else {
        productIndex = s.globalTable.sample(rng);
      }
      const p = products[productIndex] as Product;
      if (searches && v === 0) {
        if (!push({ event_type: 'search', query: p.category.toLowerCase(), page_type: 'search' })) break;
      }
      const view: Omit<GeneratedEvent, 'event_id' | 'event_time' | 'session_id'> = {
        event_type: 'product_view',
        product_id: p.product_id,
        category: p.category,
        price: p.price,
        currency: p.currency,
        page_type: 'product',
      };
      if (rng.chance(rates.recClick)) view.rec_id = generatedRecId(t, rng.int(0x7fffffff) >>> 0);
      if (!push(view)) break;
      if (rng.chance(funnel.cart)) {
        const q = rng.chance(0.8) ? 1 : rng.range(2, 4);
        cart.set(productIndex, (cart.get(productIndex) ?? 0) + q);
        push({
          event_type: 'add_to_cart',
          product_id: p.product_id,
          category: p.category,
          price: p.price,
          currency: p.currency,
          quantity: q,
        });
        // Basket completion: a theme sibling goes into the cart too (co-purchase signal).
        if (rng.chance(0.35)) {
          const members = s.themeMembers[p.theme] as number[];
          const sibling = members[(s.themeTables[p.theme] as AliasTable).sample(rng)] as number;
          const sp = products[sibling] as Product;
          cart.set(sibling, (cart.get(sibling) ?? 0) + 1);
          push({
            event_type: 'add_to_cart',
            product_id: sp.product_id,
            category: sp.category,
            price: sp.price,
            currency: sp.currency,
            quantity: 1,
          });
        }
      }
    }
    if (cart.size > 1 && rng.chance(0.1)) {
      const [removed] = cart.keys();
      if (removed !== undefined) {
        const p = products[removed] as Product;
        cart.delete(removed);
        push({ event_type: 'remove_from_cart', product_id: p.product_id, category: p.category });
      }
    }
    if (cart.size === 0 || !rng.chance(funnel.checkout)) return;
    push({ event_type: 'begin_checkout', page_type: 'checkout' });
    if (!rng.chance(funnel.purchase)) return;
    orderNo += 1;
    const discount = campaign && rng.chance(0.3) ? 0.9 : 1;
    const items = [...cart.entries()].map(([index, quantity]) => {
      const p = products[index] as Product;
      return {
        product_id: p.product_id,
        quantity,
        price: Math.round(p.price * discount * 100) / 100,
        category: p.category,
      };
    });
    const purchase: Omit<GeneratedEvent, 'event_id' | 'event_time' | 'session_id'> = {
      event_type: 'purchase',
      order_id: `O${o.seed.toString(36)}-${orderNo.toString(36)}`,
      items,
      currency: 'EUR',
      page_type: 'confirmation',
    };
    if (discount < 1) purchase.discount_code = 'WELCOME10';
    if (campaign) purchase.utm_campaign = campaign[2];
    if (!push(purchase)) return;
    if (rng.chance(rates.review)) {
      const reviewed = items[rng.int(items.length)];
      if (reviewed) {
        push({
          event_type: 'review',
          product_id: reviewed.product_id,
          rating: Math.min(5, Math.max(1, Math.round(4 + rng.normal()))),
          text: rng.pick(REVIEW_TEXT),
        });
      }
    }
  }
}
