/**
 * The real UCI Online Retail sample (Daqing Chen, UCI Machine Learning Repository, CC BY 4.0)
 * through the lake: mapped to purchase events (H2's mapping), validated by the event contract
 * as the ingest handler does, landed as the Firehose lands them, then the ETL. Monthly revenue,
 * orders, distinct customers and cancellations in gold must equal a computation done here
 * directly from the CSV, with no shoplake code involved.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent, type ShopEvent } from '../../lambdas/shared/event-schema.ts';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';
import { REPO_ROOT } from '../../local/engine/sql-files.ts';
import { mapOnlineRetail } from '../../local/generator/online-retail.ts';
import { runLocalEtl } from '../../local/sfn/etl-runner.ts';
import { writeLandingFiles } from '../../local/sfn/landing.ts';

const CSV = join(REPO_ROOT, '..', 'shared', 'data', 'online_retail_sample.csv');
const available = existsSync(CSV);
if (!available) console.warn(`skipping the UCI lake test: ${CSV} is not present`);

/** Minimal RFC 4180 CSV reader (quoted fields with commas and doubled quotes). */
function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

interface MonthFigures {
  revenue: number;
  orders: Set<string>;
  customers: Set<string>;
  cancellations: Set<string>;
}

/** Monthly figures straight from the CSV: valid lines only, cancellations are `C…` invoices. */
function expectedFromCsv(text: string): Map<string, MonthFigures> {
  const [header, ...rows] = csvRows(text);
  expect(header?.[0]).toBe('InvoiceNo');
  const id = /^[A-Za-z0-9._:-]{1,64}$/;
  const invoiceTotals = new Map<string, { month: string; total: number; customer: string | null }>();
  const months = new Map<string, MonthFigures>();
  const month = (m: string) => {
    let f = months.get(m);
    if (!f) {
      f = { revenue: 0, orders: new Set(), customers: new Set(), cancellations: new Set() };
      months.set(m, f);
    }
    return f;
  };
  for (const r of rows) {
    if (r.length !== 8) continue;
    const [invoice = '', stock = '', , qty = '', date = '', price = '', customerRaw = ''] = r.map((x) =>
      x.trim(),
    );
    const q = Number(qty);
    const p = Number(price);
    const cancelled = invoice.startsWith('C');
    if (!id.test(invoice) || !id.test(stock) || !Number.isInteger(q) || q === 0 || qty === '') continue;
    if (cancelled ? q > 0 : q < 0) continue;
    if (Math.abs(q) > 100_000 || price === '' || !Number.isFinite(p) || p < 0) continue;
    const m = /^(\d{4})-(\d{2})-\d{2} /.exec(date) ?? /^(\d{1,2})\/\d{1,2}\/(\d{4}) /.exec(date);
    if (!m) continue;
    const ym = date.includes('-') ? `${m[1]}-${m[2]}` : `${m[2]}-${String(m[1]).padStart(2, '0')}`;
    const customer = customerRaw === '' ? null : customerRaw.replace(/\.0+$/, '');
    if (cancelled) {
      month(ym).cancellations.add(invoice);
      continue;
    }
    const inv = invoiceTotals.get(invoice) ?? { month: ym, total: 0, customer };
    inv.total += q * p;
    invoiceTotals.set(invoice, inv);
  }
  for (const [invoice, inv] of invoiceTotals) {
    const f = month(inv.month);
    f.orders.add(invoice);
    f.revenue += Math.round(inv.total * 100) / 100;
    if (inv.customer) f.customers.add(inv.customer);
  }
  return months;
}

describe.skipIf(!available)('UCI Online Retail sample through the lake', () => {
  let dir: string;
  let engine: DuckdbEngine;
  let text: string;
  let accepted: ShopEvent[];

  beforeAll(async () => {
    text = readFileSync(CSV, 'utf8');
    dir = mkdtempSync(join(tmpdir(), 'shoplake-uci-'));
    const lake = join(dir, 'lake');
    engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
    accepted = [];
    for (const record of mapOnlineRetail(text).records) {
      const r = parseEvent(record.payload, { now: () => Date.parse('2026-11-21T00:00:00Z') });
      if (r.ok) accepted.push(r.event);
    }
    writeLandingFiles(lake, accepted);
    const run = await runLocalEtl({ engine, lakeDir: lake, input: { full: true } });
    expect(run.status).toBe('SUCCEEDED');
  });

  afterAll(async () => {
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('monthly revenue, orders, customers and cancellations equal the CSV computation', async () => {
    const expected = expectedFromCsv(text);
    const gold = await engine.query<{
      month: string;
      revenue: number;
      orders: number;
      active_customers: number;
      cancelled_orders: number;
    }>(
      'SELECT month, revenue, orders, active_customers, cancelled_orders FROM gold.monthly_kpis ORDER BY month',
    );
    expect(gold.map((g) => g.month.slice(0, 7))).toEqual([...expected.keys()].sort());
    for (const g of gold) {
      const e = expected.get(g.month.slice(0, 7));
      expect(e, g.month).toBeDefined();
      expect(g.orders, `${g.month} orders`).toBe(e?.orders.size);
      expect(g.active_customers, `${g.month} customers`).toBe(e?.customers.size);
      expect(g.cancelled_orders, `${g.month} cancellations`).toBe(e?.cancellations.size);
      expect(Math.abs(g.revenue - (e?.revenue ?? 0)), `${g.month} revenue ${g.revenue}`).toBeLessThan(0.01);
    }
    const total = gold.reduce((s, g) => s + g.orders, 0);
    expect(total).toBeGreaterThan(1000);
  });

  it('keeps cancellations as cancelled orders, and the cancellation table agrees', async () => {
    const [orders] = await engine.query<{ c: number; placed: number }>(
      "SELECT count_if(status = 'cancelled') AS c, count_if(status = 'placed') AS placed FROM silver.orders",
    );
    const [gold] = await engine.query<{ c: number; p: number }>(
      'SELECT sum(cancelled_orders) AS c, sum(placed_orders) AS p FROM gold.cancellations',
    );
    expect(gold?.c).toBe(orders?.c);
    expect(gold?.p).toBe(orders?.placed);
    expect(orders?.c).toBeGreaterThan(0);
  });
});
