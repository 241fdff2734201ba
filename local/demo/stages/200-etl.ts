/**
 * Demo stage 200: the batch lakehouse. Seeds the OLTP database (PGlite) with the demo shop's
 * customers, products and orders and takes a first snapshot, lets the shop change (customers
 * move, prices change, orders get cancelled), then runs the ETL state machine locally —
 * landing + second OLTP snapshot → bronze → silver → data-quality gate → gold → maintenance —
 * and prints the gold KPIs of the latest month.
 */
import { fmt } from '../../cli/output.ts';
import { lakeDirOf, openLocalEngine } from '../../engine/open.ts';
import type { Row } from '../../engine/types.ts';
import { generateMarketing } from '../../generator/marketing.ts';
import { generateShop } from '../../generator/shop.ts';
import { OltpDatabase, oltpDirOf } from '../../oltp/source.ts';
import { type LocalEtlResult, runLocalEtl } from '../../sfn/etl-runner.ts';
import type { DemoContext, DemoStage } from '../types.ts';
import type { IngestStageResult } from './100-ingest.ts';

export interface EtlStageResult {
  readonly status: LocalEtlResult['status'];
  readonly run_id: string;
  readonly elapsed_ms: number;
  readonly bronze_events: number;
  readonly silver_events: number;
  readonly oltp_changes: { moved: number; repriced: number; cancelled: number };
  readonly latest_month: Row | null;
  readonly top_categories: Row[];
  readonly quality: Row[];
}

export const stage: DemoStage = {
  name: 'etl',
  order: 200,
  async run(ctx: DemoContext): Promise<EtlStageResult> {
    const { runtime, report } = ctx;
    const ingest = ctx.results.ingest as IngestStageResult | undefined;
    if (!ingest) throw new Error('the ETL stage needs the ingest stage result (the demo shop)');
    const shop = generateShop(ingest.shop);
    report.progress('ETL: seeding the OLTP database (PGlite) and taking a first snapshot');
    const oltp = await OltpDatabase.open(oltpDirOf(runtime.stateDir));
    const engine = await openLocalEngine(runtime.stateDir);
    try {
      await oltp.seedCatalog(shop.customers, shop.products);
      await oltp.recordOrders(OltpDatabase.ordersFromPurchases(shop.events()));
      await oltp.recordReviews(OltpDatabase.reviewsFromEvents(shop.events()));
      const now = Date.now();
      // The marketing database (second source): six months of leads up to today.
      await oltp.seedMarketing(
        generateMarketing({
          seed: ingest.shop.seed ?? 42,
          start: new Date(now - 180 * 86_400_000),
          days: 180,
        }),
      );
      await oltp.snapshotToBronze(engine, new Date(now - 2 * 3600_000));
      const changes = await oltp.applyChanges(new Date(now - 3600_000));
      report.progress(
        `ETL: OLTP changes since: ${changes.moved} customers moved, ${changes.repriced} prices changed, ${changes.cancelled} orders cancelled`,
      );
      const result = await runLocalEtl({
        engine,
        lakeDir: lakeDirOf(runtime.stateDir),
        input: { full: true },
        // One hook per Glue job state (ExtractOltp, ExtractMarketing), as on AWS.
        extractOltp: (e) => oltp.snapshotToBronze(e, new Date(), ['oltp']),
        extractMarketing: (e) => oltp.snapshotToBronze(e, new Date(), ['marketing']),
        onProgress: (m) => report.progress(m),
      });
      const [latest] = await engine.query('SELECT * FROM gold.monthly_kpis ORDER BY month DESC LIMIT 1');
      const top = latest
        ? await engine.query(
            'SELECT category, revenue, mom_growth FROM gold.category_revenue WHERE month = CAST(:m AS date) ORDER BY revenue DESC LIMIT 5',
            { m: String(latest.month) },
          )
        : [];
      const counts = await engine.query<{ bronze: number; silver: number }>(
        'SELECT (SELECT count(*) FROM bronze.events) AS bronze, (SELECT count(*) FROM silver.events) AS silver',
      );
      const quality = await engine.query(
        'SELECT check_name, severity, passed, observed FROM ops.data_quality_results WHERE run_id = :run ORDER BY check_name',
        { run: result.run?.run_id ?? '' },
      );
      return {
        status: result.status,
        run_id: result.run?.run_id ?? '',
        elapsed_ms: result.elapsedMs,
        bronze_events: Number(counts[0]?.bronze ?? 0),
        silver_events: Number(counts[0]?.silver ?? 0),
        oltp_changes: changes,
        latest_month: latest ?? null,
        top_categories: top,
        quality,
      };
    } finally {
      await engine.close();
      await oltp.close();
    }
  },
  describe(result: unknown): string[] {
    const r = result as EtlStageResult;
    const k = r.latest_month;
    const num = (v: unknown, d = 0) => (typeof v === 'number' ? fmt(v, d) : '—');
    const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : '—');
    const lines = [
      `ETL ${r.run_id}: ${r.status} in ${fmt(r.elapsed_ms)} ms — bronze ${fmt(r.bronze_events)} events → silver ${fmt(r.silver_events)} (deduplicated)`,
      `data quality: ${r.quality.filter((q) => q.passed === true).length}/${r.quality.length} checks passed` +
        (r.quality.some((q) => q.passed !== true)
          ? ` (failed: ${r.quality
              .filter((q) => q.passed !== true)
              .map((q) => `${q.check_name} [${q.severity}]`)
              .join(', ')})`
          : ''),
    ];
    if (k) {
      lines.push(
        `gold KPIs ${String(k.month).slice(0, 7)}: revenue ${num(k.revenue, 2)}, net ${num(k.net_revenue, 2)}, orders ${num(k.orders)}, AOV ${num(k.avg_order_value, 2)}, customers ${num(k.active_customers)} (${num(k.new_customers)} new), cancellations ${pct(k.cancellation_rate)}, conversion ${pct(k.conversion_rate)}`,
      );
      lines.push(
        `top categories: ${r.top_categories.map((c) => `${c.category} ${num(c.revenue, 2)}`).join(', ') || '—'}`,
      );
    }
    lines.push(
      'explore: shoplake query "SELECT * FROM gold.daily_sales ORDER BY sale_date" · shoplake tables',
    );
    return lines;
  },
};
