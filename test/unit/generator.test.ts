import { describe, expect, it } from 'vitest';
import { modelVersionOfRecId } from '../../lambdas/recommendations/recommendations.ts';
import { ID_PATTERN, parseEvent } from '../../lambdas/shared/event-schema.ts';
import { AliasTable, Rng } from '../../local/generator/random.ts';
import { type GeneratedEvent, generatedRecId, generateShop } from '../../local/generator/shop.ts';

const END = Date.parse('2026-11-20T12:00:00.000Z');
const shopOf = (seed: number, events = 20_000) =>
  generateShop({ seed, events, users: 500, products: 300, days: 1, end: END });

function count(events: readonly GeneratedEvent[], type: string): number {
  return events.filter((e) => e.event_type === type).length;
}

describe('synthetic shop generator', () => {
  const events = [...shopOf(1).events()];

  it('is reproducible from its seed and differs between seeds', () => {
    expect([...shopOf(1).events()]).toEqual(events);
    const other = [...shopOf(2).events()];
    expect(other.slice(0, 50)).not.toEqual(events.slice(0, 50));
    // Each call of events() replays the same stream.
    const shop = shopOf(3, 1_000);
    expect([...shop.events()]).toEqual([...shop.events()]);
  });

  it('yields exactly the requested number of records, all valid wire events', () => {
    expect(events).toHaveLength(20_000);
    const invalid = events.map((e) => parseEvent(e, { now: () => END })).filter((r) => !r.ok);
    expect(invalid).toEqual([]);
    for (const e of events) expect(Date.parse(e.event_time)).toBeLessThanOrEqual(END);
  });

  it('follows the purchase funnel: views > carts > checkouts > purchases > 0', () => {
    const views = count(events, 'product_view');
    const carts = count(events, 'add_to_cart');
    const checkouts = count(events, 'begin_checkout');
    const purchases = count(events, 'purchase');
    expect(views).toBeGreaterThan(carts);
    expect(carts).toBeGreaterThan(checkouts);
    expect(checkouts).toBeGreaterThan(purchases);
    expect(purchases).toBeGreaterThan(100);
    // Every purchase is preceded by a checkout of the same session.
    const checkedOut = new Set(
      events.filter((e) => e.event_type === 'begin_checkout').map((e) => e.session_id),
    );
    for (const p of events.filter((e) => e.event_type === 'purchase'))
      expect(checkedOut.has(p.session_id)).toBe(true);
    for (const t of ['page_view', 'search', 'remove_from_cart', 'review'])
      expect(count(events, t)).toBeGreaterThan(0);
  });

  it('injects duplicates, late and out-of-order events at about the configured rates', () => {
    const ids = new Set<string>();
    let duplicates = 0;
    let lateByTenMinutes = 0;
    let maxSeen = 0;
    for (const e of events) {
      if (ids.has(e.event_id)) duplicates += 1;
      ids.add(e.event_id);
      const t = Date.parse(e.event_time);
      if (t < maxSeen - 10 * 60_000) lateByTenMinutes += 1;
      maxSeen = Math.max(maxSeen, t);
    }
    expect(duplicates / events.length).toBeGreaterThan(0.01);
    expect(duplicates / events.length).toBeLessThan(0.03);
    expect(lateByTenMinutes).toBeGreaterThan(50);
    // Out of order within a session: an event emitted before an earlier-timed one of its session.
    const lastBySession = new Map<string, number>();
    let outOfOrder = 0;
    for (const e of events) {
      const t = Date.parse(e.event_time);
      if (t < (lastBySession.get(e.session_id) ?? 0)) outOfOrder += 1;
      lastBySession.set(e.session_id, Math.max(t, lastBySession.get(e.session_id) ?? 0));
    }
    expect(outOfOrder).toBeGreaterThan(50);

    const clean = [...generateShop({ seed: 1, events: 5_000, end: END, rates: { duplicate: 0 } }).events()];
    expect(new Set(clean.map((e) => e.event_id)).size).toBe(clean.length);
  });

  it('has anonymous sessions, some of which log in mid-session', () => {
    const bySession = new Map<string, GeneratedEvent[]>();
    for (const e of events) bySession.set(e.session_id, [...(bySession.get(e.session_id) ?? []), e]);
    let anonymous = 0;
    let loggedIn = 0;
    for (const list of bySession.values()) {
      const users = list.map((e) => e.user_id);
      if (users.every((u) => u === undefined)) anonymous += 1;
      else if (users.some((u) => u === undefined)) loggedIn += 1;
    }
    expect(anonymous).toBeGreaterThan(100);
    expect(loggedIn).toBeGreaterThan(100);
  });

  it('carries campaigns, searches and recommendation clicks', () => {
    expect(events.some((e) => e.utm_campaign && e.utm_source && e.utm_medium)).toBe(true);
    expect(events.some((e) => e.event_type === 'search' && e.query)).toBe(true);
    expect(events.filter((e) => e.rec_id).length).toBeGreaterThan(100);
    expect(events.some((e) => e.event_type === 'purchase' && e.discount_code)).toBe(true);
  });

  it("gives recommendation clicks the API's rec_id, naming the weekly model version serving then", () => {
    for (const e of events.filter((x) => x.rec_id)) {
      const version = modelVersionOfRecId(e.rec_id ?? '');
      expect(e.rec_id).toMatch(ID_PATTERN);
      expect(e.rec_id).toMatch(/^v\d{8}T040000Z-gen:[0-9a-f]{12}$/);
      // The shop's day (2026-11-19/20) is served by the model of Sunday 2026-11-15 04:00 UTC.
      expect(version).toBe('v20261115T040000Z-gen');
    }
    const sunday = Date.parse('2026-11-15T04:00:00Z');
    expect(modelVersionOfRecId(generatedRecId(sunday - 1, 1))).toBe('v20261108T040000Z-gen');
    expect(modelVersionOfRecId(generatedRecId(sunday, 1))).toBe('v20261115T040000Z-gen');
  });

  it('has Zipf-like popularity and co-purchase structure within themes', () => {
    const shop = shopOf(1);
    const views = new Map<string, number>();
    for (const e of events)
      if (e.event_type === 'product_view' && e.product_id)
        views.set(e.product_id, (views.get(e.product_id) ?? 0) + 1);
    const sorted = [...views.values()].sort((a, b) => b - a);
    const total = sorted.reduce((a, b) => a + b, 0);
    const top10 = sorted.slice(0, 30).reduce((a, b) => a + b, 0);
    // The top 10% of 300 products get far more than 10% of views.
    expect(top10 / total).toBeGreaterThan(0.3);

    const theme = new Map(shop.products.map((p) => [p.product_id, p.theme]));
    let pairs = 0;
    let sameTheme = 0;
    for (const e of events) {
      if (e.event_type !== 'purchase' || !e.items) continue;
      for (let i = 0; i < e.items.length; i += 1) {
        for (let j = i + 1; j < e.items.length; j += 1) {
          pairs += 1;
          if (theme.get(e.items[i]?.product_id ?? '') === theme.get(e.items[j]?.product_id ?? ''))
            sameTheme += 1;
        }
      }
    }
    const themes = new Set(theme.values()).size;
    expect(pairs).toBeGreaterThan(50);
    // Random pairs would share a theme 1/themes of the time (~8%); baskets share far more often.
    expect(sameTheme / pairs).toBeGreaterThan(5 / themes);
  });

  it('exposes the catalog and customers for seeding the OLTP database', () => {
    const shop = shopOf(1);
    expect(shop.products).toHaveLength(300);
    expect(shop.customers).toHaveLength(500);
    expect(shop.categories.some((c) => c.parent === null)).toBe(true);
    const categoryIds = new Set(shop.categories.map((c) => c.category_id));
    for (const p of shop.products) {
      expect(categoryIds.has(p.category_id)).toBe(true);
      expect(p.price).toBeGreaterThan(0);
    }
    const customerIds = new Set(shop.customers.map((c) => c.customer_id));
    for (const e of events) if (e.user_id) expect(customerIds.has(e.user_id)).toBe(true);
    const productIds = new Set(shop.products.map((p) => p.product_id));
    for (const e of events) if (e.product_id) expect(productIds.has(e.product_id)).toBe(true);
  });

  it('rejects impossible options', () => {
    expect(() => generateShop({ events: -1 })).toThrow(RangeError);
    expect(() => generateShop({ rates: { duplicate: 2 } })).toThrow(RangeError);
  });
});

describe('randomness helpers', () => {
  it('alias table samples in proportion to the weights', () => {
    const rng = new Rng(5);
    const table = new AliasTable([1, 2, 7]);
    const counts = [0, 0, 0];
    for (let i = 0; i < 100_000; i += 1) {
      const k = table.sample(rng);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    const total = counts.reduce((a, b) => a + b, 0);
    expect((counts[2] ?? 0) / total).toBeGreaterThan(0.67);
    expect((counts[2] ?? 0) / total).toBeLessThan(0.73);
    expect((counts[0] ?? 0) / total).toBeGreaterThan(0.08);
    expect((counts[0] ?? 0) / total).toBeLessThan(0.12);
  });

  it('rng is deterministic and uniform enough', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 1_000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1_000 }, () => b.next()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});
