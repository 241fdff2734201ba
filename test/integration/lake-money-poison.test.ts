/**
 * Issue 16, data correctness on the local lake (the real ETL definition, the real SQL, DuckDB):
 *  - exact money: silver/gold money columns are decimals; two clean runs on the same input give
 *    byte-identical gold (every column as text); gold revenue equals an independent exact
 *    (integer) computation; a known dim_product row has a pinned hash of its canonical text;
 *  - gold.review_ratings carries the product's category;
 *  - poison records in landing files (truncated JSON, invalid Unicode, 1 MB strings, deep
 *    nesting, wrong types, contract violations) are rejected with reason, file and line, and
 *    block nothing: every line is accounted for, the rest of the run proceeds.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAKE_PREFIXES } from '../../infra/definitions/resources.ts';
import { MONEY_TYPE, PRICE_TYPE, qualifiedName, TABLES } from '../../lambdas/shared/catalog/index.ts';
import { parseEvent, type ShopEvent } from '../../lambdas/shared/event-schema.ts';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { runLocalEtl } from '../../local/sfn/etl-runner.ts';
import { writeLandingFiles } from '../../local/sfn/landing.ts';

const NOW = Date.parse('2026-11-21T00:00:00Z');

/** The value, or a test failure naming what was missing. */
function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`missing ${what}`);
  return value;
}
const fixedNow = () => new Date(NOW);

function shopOf(seed: number, count: number) {
  return generateShop({ seed, events: count, users: 80, products: 40, days: 20, end: NOW - 86_400_000 });
}

function shopEvents(seed: number, count: number): ShopEvent[] {
  const shop = shopOf(seed, count);
  const out: ShopEvent[] = [];
  for (const e of shop.events()) {
    const r = parseEvent(e, { now: () => NOW });
    if (r.ok) out.push(r.event);
  }
  return out;
}

/** Products of the OLTP snapshot, with prices whose double text differs between engines. */
const PRODUCTS = [
  ['p-known', 'Reading lamp', 'Home & Garden', 38.99, 'EUR', 12],
  ['p-cheap', 'Sticker', 'Toys', 0.5, 'EUR', 400],
  ['p-odd', 'Thimble', 'Toys', 0.001, 'GBP', 3],
] as const;

/**
 * One OLTP snapshot: the fixed products above, plus half of the shop's products under an
 * `OLTP:` category (so gold.review_ratings shows which source its category came from).
 */
async function seedOltpProducts(engine: DuckdbEngine, shopProducts: readonly SeedProduct[]): Promise<void> {
  const rows: SeedProduct[] = [
    ...PRODUCTS.map(([product_id, name, category, price, currency, stock]) => ({
      product_id,
      name,
      category,
      price,
      currency,
      stock,
    })),
    ...shopProducts,
  ];
  const params: Record<string, string | number> = {};
  const values = rows.map((r, i) => {
    Object.assign(params, {
      [`id${i}`]: r.product_id,
      [`n${i}`]: r.name,
      [`c${i}`]: r.category,
      [`p${i}`]: r.price,
      [`cur${i}`]: r.currency,
      [`s${i}`]: r.stock,
    });
    return `(TIMESTAMP '2026-11-01 00:00:00', :id${i}, :n${i}, :c${i}, CAST(:p${i} AS double), :cur${i},
             CAST(:s${i} AS integer), TIMESTAMP '2026-11-01 00:00:00')`;
  });
  await engine.execute(
    `INSERT INTO bronze.oltp_products (snapshot_at, product_id, name, category, price, currency, stock, updated_at)
     VALUES ${values.join(',\n')}`,
    { params },
  );
}

interface SeedProduct {
  product_id: string;
  name: string;
  category: string;
  price: number;
  currency: string;
  stock: number;
}

/** Every silver/gold table as text, run ids left out: what "identical" means between runs. */
async function tablesAsText(
  engine: DuckdbEngine,
  namespaces: readonly string[],
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of TABLES.filter((x) => namespaces.includes(x.namespace))) {
    const cols = t.columns.filter((c) => c.name !== 'etl_run_id');
    const rows = await engine.query<Record<string, string | null>>(
      `SELECT ${cols.map((c) => `CAST(${c.name} AS varchar) AS ${c.name}`).join(', ')} FROM ${qualifiedName(t)}`,
    );
    out[qualifiedName(t)] = rows
      .map((r) => JSON.stringify(cols.map((c) => r[c.name])))
      .sort()
      .join('\n');
  }
  return out;
}

/** Half-up rounding of a non-negative integer amount in 1/10000 to cents. */
const toCents = (tenThousandths: bigint) => (tenThousandths + 50n) / 100n;
const centsText = (c: bigint) => `${c / 100n}.${(c % 100n).toString().padStart(2, '0')}`;

describe('exact money: decimals, reproducible gold, canonical hashes', () => {
  const dirs: string[] = [];
  const engines: DuckdbEngine[] = [];
  let events: ShopEvent[];
  let oltpProducts: SeedProduct[];

  async function cleanRun(): Promise<DuckdbEngine> {
    const dir = mkdtempSync(join(tmpdir(), 'shoplake-money-'));
    dirs.push(dir);
    const lake = join(dir, 'lake');
    const engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
    engines.push(engine);
    await seedOltpProducts(engine, oltpProducts);
    writeLandingFiles(lake, events, { part: 'part-00001.jsonl' });
    const run = await runLocalEtl({ engine, lakeDir: lake, input: { full: true }, now: fixedNow });
    expect(run.status).toBe('SUCCEEDED');
    return engine;
  }

  beforeAll(async () => {
    events = shopEvents(23, 3_000);
    // Half of the shop's products are in the OLTP snapshot, under a category of their own.
    oltpProducts = shopOf(23, 3_000)
      .products.filter((_, i) => i % 2 === 0)
      .map((p) => ({
        product_id: p.product_id,
        name: p.name,
        category: `OLTP:${p.category}`,
        price: p.price,
        currency: p.currency,
        stock: 10,
      }));
    await cleanRun();
    await cleanRun();
  });

  afterAll(async () => {
    for (const e of engines) await e.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('declares prices and amounts as decimals in silver and gold, and the lake stores decimals', async () => {
    const money = TABLES.filter((t) => t.namespace === 'silver' || t.namespace === 'gold').flatMap((t) =>
      t.columns
        .filter(
          (c) =>
            /revenue|amount|price|value$/.test(c.name) && !/p_value$/.test(c.name) && c.type !== 'boolean',
        )
        .map((c) => [qualifiedName(t), c.name, c.type] as const),
    );
    const notDecimal = money.filter(
      ([t, name, type]) =>
        type !== MONEY_TYPE &&
        type !== PRICE_TYPE &&
        !(t === 'silver.events' && name === 'price') &&
        // Forecasting model inputs are doubles on purpose (docs/forecasting.md): features, not money.
        !(
          ['gold.demand_daily', 'gold.demand_features'].includes(t) && /^(avg_price|price_ratio)$/.test(name)
        ),
    );
    expect(notDecimal).toEqual([]);
    const [engine] = engines;
    const [types] = await must(engine, 'engine').query<Record<string, string>>(
      `SELECT typeof(revenue) AS revenue, typeof(avg_order_value) AS aov FROM gold.daily_sales LIMIT 1`,
    );
    expect(types).toEqual({ revenue: 'DECIMAL(38,2)', aov: 'DECIMAL(38,2)' });
    const [line] = await must(engine, 'engine').query<Record<string, string>>(
      'SELECT typeof(unit_price) AS p, typeof(line_amount) AS a FROM silver.order_lines LIMIT 1',
    );
    expect(line).toEqual({ p: 'DECIMAL(18,4)', a: 'DECIMAL(38,2)' });
  });

  it('two clean runs on the same input give byte-identical silver and gold', async () => {
    const [a, b] = engines;
    const first = await tablesAsText(must(a, 'first lake'), ['silver', 'gold']);
    const second = await tablesAsText(must(b, 'second lake'), ['silver', 'gold']);
    for (const name of Object.keys(first)) expect(second[name], name).toBe(first[name]);
    expect(first['gold.daily_sales']?.length).toBeGreaterThan(0);
  });

  it('gold revenue equals an exact integer computation of the placed orders, to the cent', async () => {
    const seen = new Set<string>();
    const orders = new Map<string, { units: bigint; cancelled: boolean }>();
    for (const e of events) {
      if (e.event_type !== 'purchase' || seen.has(e.event_id) || !e.order_id) continue;
      seen.add(e.event_id);
      const o = orders.get(e.order_id) ?? { units: 0n, cancelled: false };
      for (const l of e.items ?? []) o.units += BigInt(l.quantity) * BigInt(Math.round(l.price * 10_000));
      if (e.order_status === 'cancelled') o.cancelled = true;
      orders.set(e.order_id, o);
    }
    let cents = 0n;
    for (const o of orders.values()) if (!o.cancelled) cents += toCents(o.units);
    const [gold] = await must(engines[0], 'engine').query<{ r: string }>(
      'SELECT CAST(sum(revenue) AS varchar) AS r FROM gold.daily_sales',
    );
    expect(gold?.r).toBe(centsText(cents));
  });

  it('dim_product.row_hash is the MD5 of canonical text (decimal price with its scale), pinned', async () => {
    const rows = await must(engines[0], 'engine').query<{
      product_id: string;
      price: string;
      row_hash: string;
    }>(
      "SELECT product_id, CAST(price AS varchar) AS price, row_hash FROM silver.dim_product WHERE product_id LIKE 'p-%' ORDER BY product_id",
    );
    expect(rows.map((r) => [r.product_id, r.price])).toEqual([
      ['p-cheap', '0.5000'],
      ['p-known', '38.9900'],
      ['p-odd', '0.0010'],
    ]);
    const canonical = 'Reading lamp|Home & Garden|38.9900|EUR';
    const expected = createHash('md5').update(canonical, 'utf8').digest('hex').toUpperCase();
    // The constant, so a change of the canonical form cannot pass unnoticed.
    expect(expected).toBe('B1372C4AAFE293E2BB073C5E51B65190');
    expect(rows.find((r) => r.product_id === 'p-known')?.row_hash).toBe(expected);
  });

  it('gold.review_ratings names the category: the OLTP product category, else the one its events carry', async () => {
    const rows = await must(engines[0], 'engine').query<{ product_id: string; category: string | null }>(
      'SELECT product_id, category FROM gold.review_ratings',
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.category === null)).toEqual([]);
    const inOltp = new Map(oltpProducts.map((p) => [p.product_id, p.category]));
    const fromOltp = rows.filter((r) => inOltp.has(r.product_id));
    const fromEvents = rows.filter((r) => !inOltp.has(r.product_id));
    expect(fromOltp.length).toBeGreaterThan(0);
    expect(fromEvents.length).toBeGreaterThan(0);
    for (const r of fromOltp) expect(r.category).toBe(inOltp.get(r.product_id));
    for (const r of fromEvents) expect(r.category).not.toMatch(/^OLTP:/);
  });
});

describe('poison records in landing files are rejected with file and line, never blocking', () => {
  let dir: string;
  let lake: string;
  let engine: DuckdbEngine;
  let good: ShopEvent[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoplake-poison-'));
    lake = join(dir, 'lake');
    engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
    good = shopEvents(29, 600);
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads every valid line, rejects each poison line with its reason, file and line number', async () => {
    const day = must(good[0], 'an event').event_time.slice(0, 10);
    const sameDay = good.filter((e) => e.event_time.startsWith(day));
    const base = {
      ...must(sameDay[0], 'an event of the day'),
      event_type: 'page_view',
      product_id: null,
    } as Record<string, unknown>;
    const line = (o: object) => JSON.stringify(o);
    let deep = '1';
    for (let i = 0; i < 100_000; i++) deep = `[${deep}]`;
    const poison: { text: string | Buffer; reason: RegExp }[] = [
      { text: line({ ...base, event_id: 'trunc-1' }).slice(0, 60), reason: /^invalid_json/ },
      {
        text: line({ ...base, event_id: 'surrogate-1', event_type: 'search', query: 'QQ' }).replace(
          'QQ',
          '\\ud800',
        ),
        reason: /^invalid_unicode/,
      },
      {
        text: Buffer.concat([
          Buffer.from(line({ ...base, event_id: 'bytes-1' }).slice(0, -2)),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('"}'),
        ]),
        reason: /^not_utf8/,
      },
      {
        text: line({
          ...base,
          event_id: 'huge-1',
          event_type: 'review',
          product_id: 'p1',
          rating: 4,
          text: 'x'.repeat(1_000_000),
        }),
        reason: /^event_too_large/,
      },
      { text: `{"event_id":"deep-1","x":${deep}}`, reason: /^event_too_large|^json_too_deep/ },
      { text: `{"event_id":"deep-2","x":${'['.repeat(40)}1${']'.repeat(40)}}`, reason: /^json_too_deep/ },
      { text: line({ ...base, event_id: 'type-1', price: 'abc' }), reason: /^invalid_field/ },
      { text: line({ ...base, event_id: 'type-2', quantity: '2' }), reason: /^invalid_field/ },
      {
        text: line({ ...base, event_id: 'contract-1', event_type: 'teleport' }),
        reason: /^unknown_event_type/,
      },
    ];
    // Valid lines first (one file per day), then a file of poison interleaved with valid lines.
    writeLandingFiles(lake, good, { part: 'part-00001.jsonl' });
    const poisonFile = join(lake, LAKE_PREFIXES.landingEvents, `event_date=${day}`, 'part-00002.jsonl');
    const interleaved = [line(must(sameDay[1], 'event 1')), line(must(sameDay[2], 'event 2'))];
    const expectedLines = new Map<string, { line: number; reason: RegExp }>();
    let n = 0;
    for (const p of poison) {
      appendFileSync(poisonFile, p.text);
      appendFileSync(poisonFile, '\n');
      n += 1;
      expectedLines.set(String(n), { line: n, reason: p.reason });
      appendFileSync(poisonFile, `${interleaved[n % 2]}\n`); // duplicates of valid events
      n += 1;
    }
    appendFileSync(poisonFile, line({ ...base, event_id: 'trunc-at-eof' }).slice(0, 40)); // no newline
    n += 1;
    expectedLines.set(String(n), { line: n, reason: /^invalid_json/ });
    const received = good.length + n;

    const run = await runLocalEtl({ engine, lakeDir: lake, input: { full: true }, now: fixedNow });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.landing?.rejected).toBe(poison.length + 1);
    expect(run.landing?.rows).toBe(good.length + poison.length); // + the interleaved valid copies
    expect((run.landing?.rows ?? 0) + (run.landing?.rejected ?? 0)).toBe(received);
    const rejected = await engine.query<{ reason: string; source_file: string; source_line: number }>(
      "SELECT reason, source_file, source_line FROM ops.rejected_events WHERE source_file LIKE '%part-00002.jsonl' ORDER BY source_line",
    );
    expect(rejected).toHaveLength(expectedLines.size);
    for (const r of rejected) {
      const want = expectedLines.get(String(r.source_line));
      expect(want, `line ${r.source_line}: ${r.reason.slice(0, 80)}`).toBeDefined();
      expect(r.reason).toMatch(must(want, `line ${r.source_line}`).reason);
      expect(r.source_file).toMatch(new RegExp(`event_date=${day}/part-00002\\.jsonl$`));
    }
    // the reasons are short and storable (no 1 MB excerpt)
    expect(Math.max(...rejected.map((r) => r.reason.length))).toBeLessThan(1_000);
    // nothing else blocked: every distinct valid event reached silver
    const [s] = await engine.query<{ n: number }>('SELECT count(*) AS n FROM silver.events');
    expect(s?.n).toBe(new Set(good.map((e) => e.event_id)).size);
    // landing files are moved out, nothing is left to wedge the next run
    expect(readdirSync(join(lake, LAKE_PREFIXES.landingEvents, `event_date=${day}`))).toEqual([]);
    const again = await runLocalEtl({ engine, lakeDir: lake, input: { full: true }, now: fixedNow });
    expect(again.status).toBe('SUCCEEDED');
  });

  it('contract violations in lines DuckDB reads whole reach ops.rejected_events with a reason, never silver', async () => {
    // A file of well-typed lines under 64 KiB: the loader's typed read takes them as they are
    // (no line check), so the silver SQL applies the event contract (LIMITS) itself.
    const day = must(good[5], 'an event').event_time.slice(0, 10);
    const sameDay = good.filter((e) => e.event_time.startsWith(day));
    const base = { ...must(sameDay[0], 'an event of the day'), event_type: 'page_view', product_id: null };
    const bad: { event: Record<string, unknown>; reason: RegExp }[] = [
      {
        event: {
          ...base,
          event_id: 'c-review-6000',
          event_type: 'review',
          product_id: 'p1',
          rating: 4,
          text: 'r'.repeat(6_000),
        },
        reason: /^invalid_field: text is not 0-5000 characters/,
      },
      {
        event: { ...base, event_id: `c-${'x'.repeat(100)}` },
        reason: /^invalid_field: event_id is not an id/,
      },
      {
        event: { ...base, event_id: 'c-session', session_id: 's#1' },
        reason: /^invalid_field: session_id is not an id/,
      },
      {
        event: { ...base, event_id: 'c-user', user_id: 'u'.repeat(65) },
        reason: /^invalid_field: user_id is not an id/,
      },
      {
        event: { ...base, event_id: 'c-category', category: 'k'.repeat(201) },
        reason: /^invalid_field: category/,
      },
      {
        event: { ...base, event_id: 'c-referrer', referrer: 'h'.repeat(1_001) },
        reason: /^invalid_field: referrer/,
      },
      {
        event: { ...base, event_id: 'c-query', event_type: 'search', query: 'q'.repeat(1_001) },
        reason: /^invalid_field: query/,
      },
      { event: { ...base, event_id: 'c-device', device: '' }, reason: /^invalid_field: device/ },
      { event: { ...base, event_id: 'c-currency', currency: 'eur' }, reason: /^invalid_field: currency/ },
      {
        event: { ...base, event_id: 'c-status', order_status: 'lost' },
        reason: /^invalid_field: order_status/,
      },
      { event: { ...base, event_id: 'c-price', price: 2e9 }, reason: /^invalid_field: price/ },
      { event: { ...base, event_id: 'c-quantity', quantity: 200_000 }, reason: /^invalid_field: quantity/ },
    ];
    const valid: Record<string, unknown>[] = [
      { ...must(sameDay[3], 'event 3'), event_id: 'c-valid-1' },
      { ...must(sameDay[4], 'event 4'), event_id: 'c-valid-2' },
    ];
    // + one duplicate delivery
    const lines: Record<string, unknown>[] = [...bad.map((b) => b.event), ...valid, must(valid[0], 'valid')];
    for (const l of lines) expect(Buffer.byteLength(JSON.stringify(l))).toBeLessThan(65_536);
    const file = join(lake, LAKE_PREFIXES.landingEvents, `event_date=${day}`, 'part-00004.jsonl');
    appendFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const [before] = await engine.query<{ n: number }>('SELECT count(*) AS n FROM silver.events');

    const run = await runLocalEtl({ engine, lakeDir: lake, input: { full: true }, now: fixedNow });

    expect(run.status).toBe('SUCCEEDED');
    // the typed read took every line (none is malformed JSON or over 64 KiB)
    expect(run.landing).toMatchObject({ rows: lines.length, rejected: 0 });
    const rejected = await engine.query<{ event_id: string; reason: string }>(
      "SELECT event_id, reason FROM ops.rejected_events WHERE source_file LIKE '%part-00004.jsonl'",
    );
    const byId = new Map(rejected.map((r) => [r.event_id, r.reason]));
    for (const b of bad) {
      const id = String(b.event.event_id);
      expect(byId.get(id), id.slice(0, 40)).toMatch(b.reason);
    }
    const ids = lines.map((l) => String(l.event_id));
    const inSilver = await engine.query<{ event_id: string }>(
      `SELECT event_id FROM silver.events WHERE event_id IN (${ids.map((_, i) => `:i${i}`).join(', ')})`,
      Object.fromEntries(ids.map((id, i) => [`i${i}`, id])),
    );
    expect(inSilver.map((r) => r.event_id).sort()).toEqual(['c-valid-1', 'c-valid-2']);
    // every line is classified: accepted + duplicate + rejected = received
    const [after] = await engine.query<{ n: number }>('SELECT count(*) AS n FROM silver.events');
    const accepted = (after?.n ?? 0) - (before?.n ?? 0);
    const duplicates = lines.length - new Set(ids).size;
    expect({ accepted, duplicates, rejected: rejected.length }).toEqual({
      accepted: 2,
      duplicates: 1,
      rejected: bad.length,
    });
    expect(accepted + duplicates + rejected.length).toBe(lines.length);
  });

  it('an oversized line that is valid JSON (DuckDB would load it) is rejected with its line too', async () => {
    const e = must(good[3], 'an event');
    const day = e.event_time.slice(0, 10);
    const file = join(lake, LAKE_PREFIXES.landingEvents, `event_date=${day}`, 'part-00003.jsonl');
    const big = {
      ...e,
      event_id: 'big-1',
      event_type: 'search',
      product_id: null,
      query: 'q'.repeat(100_000),
    };
    appendFileSync(
      file,
      `${JSON.stringify({ ...e, event_id: 'fresh-after-big' })}\n${JSON.stringify(big)}\n`,
    );

    const run = await runLocalEtl({ engine, lakeDir: lake, input: { full: true }, now: fixedNow });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.landing).toMatchObject({ rows: 1, rejected: 1 });
    const [r] = await engine.query<{ reason: string; source_line: number }>(
      "SELECT reason, source_line FROM ops.rejected_events WHERE source_file LIKE '%part-00003.jsonl'",
    );
    expect(r?.reason).toMatch(/^event_too_large/);
    expect(r?.source_line).toBe(2);
  });
});
