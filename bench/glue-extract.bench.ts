/**
 * The Glue extract job's code on local Spark against a real PostgreSQL (issue 9): a first load
 * of a shop with 1M order lines (`SHOPLAKE_BENCH_GLUE_LINES`), one payment per order and a
 * review per five orders, then an incremental run after 1% of the customers, orders, order
 * lines, payments and reviews changed, then a run with no change.
 * Reports wall time, source rows read per second and the peak RSS of the Spark process tree
 * (local_run.py + its JVM, sampled every 250 ms). Spark: local[2], 1 GB driver memory
 * (local_run.py defaults; SHOPLAKE_SPARK_DRIVER_MEMORY overrides).
 *
 *   npm run bench -- glue-extract
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckdbEngine } from '../local/engine/duckdb.ts';
import { startPostgres } from '../local/oltp/postgres-server.ts';
import { OltpDatabase } from '../local/oltp/source.ts';
import { type ExtractSummary, LocalGlueJobs, sparkToolchain } from '../local/oltp/spark-extract.ts';

/** RSS (bytes) and CPU seconds (user + system) of a process and all its descendants. */
function treeUsage(root: number): { rss: number; cpu: number } {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(fields[1]));
      rss.set(Number(name), Number(fields[21]) * 4096);
      cpu.set(Number(name), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the process ended meanwhile
    }
  }
  const total = { rss: 0, cpu: 0 };
  for (const [pid, bytes] of rss) {
    let p: number | undefined = pid;
    while (p !== undefined && p > 1 && p !== root) p = parent.get(p);
    if (p === root) {
      total.rss += bytes;
      total.cpu += cpu.get(pid) ?? 0;
    }
  }
  return total;
}

const treeRss = (root: number): number => treeUsage(root).rss;

async function measured(jobs: LocalGlueJobs, fn: () => Promise<ExtractSummary>) {
  let peak = 0;
  const pid = jobs.pid ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRss(pid));
  }, 250);
  const cpu0 = treeUsage(pid).cpu;
  const t0 = performance.now();
  try {
    const summary = await fn();
    const seconds = (performance.now() - t0) / 1000;
    const cpuSeconds = treeUsage(pid).cpu - cpu0;
    const read = summary.tables.reduce((s, t) => s + t.rows_read, 0);
    const written = summary.tables.reduce((s, t) => s + t.rows_written + t.rows_deleted, 0);
    return {
      wall_s: Math.round(seconds * 10) / 10,
      rows_read: read,
      rows_written: written,
      rows_per_s: Math.round(read / seconds),
      // CPU seconds of local_run.py + its JVM: what the run costs independent of machine load.
      cpu_s: Math.round(cpuSeconds * 10) / 10,
      peak_rss_mb: Math.round(Math.max(peak, treeRss(pid)) / 2 ** 20),
      tables: Object.fromEntries(
        summary.tables.map((t) => [
          t.table,
          `${t.mode} read ${t.rows_read} +${t.rows_written} -${t.rows_deleted}`,
        ]),
      ),
    };
  } finally {
    clearInterval(timer);
  }
}

export async function run(): Promise<object> {
  const lines = Number(process.env.SHOPLAKE_BENCH_GLUE_LINES ?? 1_000_000);
  const orders = Math.ceil(lines / 4);
  const toolchain = sparkToolchain();
  const dir = mkdtempSync(join(tmpdir(), 'shoplake-bench-glue-'));
  const pg = await startPostgres(toolchain.pgBin);
  let jobs: LocalGlueJobs | undefined;
  const db = await OltpDatabase.connect(pg.url);
  try {
    const warehouse = join(dir, 'lake', 'warehouse');
    await (await DuckdbEngine.open({ warehouseDir: warehouse })).close();
    const q = (sql: string) => db.db.query(sql);
    // updated_at spread over the past (as in a live database), not one seeding timestamp: an
    // incremental run then reads only what changed since the watermark.
    await q(`INSERT INTO customers (customer_id, name, email, country, city, segment, signup_at, updated_at)
             SELECT 'C' || g, 'name ' || g, 'c' || g || '@example.com', 'DE', 'Berlin', 'consumer',
                    timestamptz '2025-01-01' + g * interval '1 minute', timestamptz '2025-01-01' + g * interval '1 minute'
             FROM generate_series(1, 50000) g`);
    await q(`INSERT INTO products (product_id, name, category, price, currency, stock, updated_at)
             SELECT 'P' || g, 'product ' || g, 'cat' || (g % 50), (g % 100) + 0.99, 'EUR', 10,
                    timestamptz '2025-06-01' + g * interval '1 minute' FROM generate_series(1, 5000) g`);
    await q(`INSERT INTO orders (order_id, customer_id, status, order_time, total_amount, currency, updated_at)
             SELECT 'O' || g, 'C' || (g % 50000 + 1), 'placed', timestamptz '2026-01-01' + g * interval '30 seconds', 0, 'EUR',
                    timestamptz '2026-01-01' + g * interval '30 seconds'
             FROM generate_series(1, ${orders}) g`);
    await q(`INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price)
             SELECT 'O' || o, l, 'P' || ((o * 7 + l) % 5000 + 1), 1 + (o + l) % 3, ((o + l) % 100) + 0.5
             FROM generate_series(1, ${orders}) o, generate_series(1, 4) l`);
    // One payment per order, a review for every fifth order (the shop's other OLTP tables).
    await q(`INSERT INTO payments (payment_id, order_id, method, status, amount, currency, paid_at, updated_at)
             SELECT 'O' || g || '-P1', 'O' || g, 'card', 'captured', (g % 100) + 0.5, 'EUR',
                    timestamptz '2026-01-01' + g * interval '30 seconds', timestamptz '2026-01-01' + g * interval '30 seconds'
             FROM generate_series(1, ${orders}) g`);
    await q(`INSERT INTO reviews (review_id, product_id, customer_id, order_id, rating, body, status, created_at, updated_at)
             SELECT 'R' || g, 'P' || ((g * 7) % 5000 + 1), 'C' || (g % 50000 + 1), 'O' || (g * 5), 1 + g % 5, 'fine',
                    'published', timestamptz '2026-01-02' + g * interval '150 seconds',
                    timestamptz '2026-01-02' + g * interval '150 seconds'
             FROM generate_series(1, ${Math.floor(orders / 5)}) g`);
    await q('ANALYZE');
    const url = pg.url;
    const t0 = performance.now();
    jobs = await LocalGlueJobs.start(warehouse, toolchain);
    const sparkStart = Math.round((performance.now() - t0) / 100) / 10;
    const j = jobs;
    const first = await measured(j, () => j.run({ source: 'oltp', pgUrl: url, runId: 'bench-1' }));
    await q(
      `UPDATE customers SET city = 'Paris', updated_at = now() WHERE substr(customer_id, 2)::int % 100 = 0`,
    );
    await q(
      `UPDATE orders SET status = 'cancelled', updated_at = now() WHERE substr(order_id, 2)::int % 100 = 0`,
    );
    await q(
      `UPDATE order_lines SET quantity = quantity + 1 WHERE (substr(order_id, 2)::int * 4 + line_no) % 100 = 0`,
    );
    await q(
      `UPDATE payments SET status = 'refunded', updated_at = now() WHERE substr(order_id, 2)::int % 100 = 0`,
    );
    await q(
      `UPDATE reviews SET status = 'hidden', updated_at = now() WHERE substr(review_id, 2)::int % 100 = 0`,
    );
    const incremental = await measured(j, () => j.run({ source: 'oltp', pgUrl: url, runId: 'bench-2' }));
    const unchanged = await measured(j, () => j.run({ source: 'oltp', pgUrl: url, runId: 'bench-3' }));
    return {
      order_lines: lines,
      spark_start_s: sparkStart,
      first_load_wall_s: first.wall_s,
      first_load_rows_per_s: first.rows_per_s,
      first_load_peak_rss_mb: first.peak_rss_mb,
      first_load_cpu_s: first.cpu_s,
      incremental_1pct_wall_s: incremental.wall_s,
      incremental_1pct_rows_written: incremental.rows_written,
      incremental_1pct_peak_rss_mb: incremental.peak_rss_mb,
      incremental_1pct_cpu_s: incremental.cpu_s,
      no_change_wall_s: unchanged.wall_s,
      no_change_rows_written: unchanged.rows_written,
      no_change_cpu_s: unchanged.cpu_s,
      load_average: loadavg()
        .map((x) => x.toFixed(2))
        .join(' '),
      details: { first, incremental, unchanged },
    };
  } finally {
    await jobs?.close();
    await db.close();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
