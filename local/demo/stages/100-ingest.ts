/**
 * Demo stage 100: generate a synthetic shop and stream it through the real path —
 * ingest handler → Kinesis → event-source mapping → stream consumer → DynamoDB (and the
 * Firehose-like landing sink) — then read the real-time features back.
 *
 * Later stages get the exact same shop (catalog, customers, events) from the `shop` options in
 * this stage's result: `generateShop(results.ingest.shop)`.
 */
import { documentClient } from '../../../lambdas/shared/aws-clients.ts';
import { DynamoFeatureStore } from '../../../lambdas/shared/features/dynamo-store.ts';
import { getRecentItems, getTrending, getWindowTotals } from '../../../lambdas/shared/features/read.ts';
import type { RecentItem } from '../../../lambdas/shared/features/recent.ts';
import { bucketStart, WINDOW_SIZES_MS } from '../../../lambdas/shared/features/windows.ts';
import { fmt } from '../../cli/output.ts';
import { generateShop, type ShopOptions } from '../../generator/shop.ts';
import type { ReplaySummary } from '../../runtime/replay.ts';
import { type EmbeddedRuntime, isEmbeddedRuntime } from '../../runtime/runtime.ts';
import { replayThroughRuntime } from '../../runtime/session.ts';
import type { DemoContext, DemoOptions, DemoStage } from '../types.ts';

/** Days of history of the demo shop unless `--days` says otherwise. */
export const DEFAULT_DEMO_DAYS = 1;

/** Options of the demo's shop: reproducible from the seed and the recorded end time. */
export function demoShopOptions(
  options: Pick<DemoOptions, 'events' | 'seed' | 'days'>,
  end: number,
): Required<Pick<ShopOptions, 'seed' | 'events' | 'users' | 'products' | 'days' | 'end'>> {
  return {
    seed: options.seed,
    events: options.events,
    users: Math.max(200, Math.min(20_000, Math.round(options.events / 20))),
    products: Math.max(100, Math.min(5_000, Math.round(options.events / 40))),
    days: options.days ?? DEFAULT_DEMO_DAYS,
    end,
  };
}

export interface IngestStageResult extends ReplaySummary {
  shop: ReturnType<typeof demoShopOptions>;
  elapsed_ms: number;
  events_per_second: number;
  features: {
    trending: { window: string; bucket_start: string; products: { product_id: string; score: number }[] }[];
    revenue_per_window: {
      window: string;
      bucket_start: string;
      revenue: number;
      orders: number;
      units: number;
      events: number;
    }[];
    sample_user: { user_id: string; recent_items: RecentItem[] } | null;
  };
  landing: { records: number; errors: number; dir: string };
  quarantine_uri: string;
}

/** Reads the real-time features the consumer wrote, through the serving layer's read API. */
async function readFeatures(runtime: EmbeddedRuntime, now: number, sampleUser: string | undefined) {
  const store = new DynamoFeatureStore({
    client: documentClient(runtime.clients.dynamodb),
    tableName: runtime.names.featuresTable,
  });
  const trending = [];
  for (const window of ['5m', '1h'] as const) {
    // The last complete window: the newest one is usually only partly filled.
    const t = await getTrending(store, { window, now: bucketStart(now, window) - 1, k: 5 });
    trending.push({ window, bucket_start: t.bucket_start, products: t.products });
  }
  const revenue = [];
  const hour = WINDOW_SIZES_MS['1h'];
  for (let i = 5; i >= 0; i -= 1) {
    const w = await getWindowTotals(store, { window: '1h', bucketStart: bucketStart(now, '1h') - i * hour });
    revenue.push({
      window: w.window,
      bucket_start: w.bucket_start,
      revenue: w.revenue,
      orders: w.orders,
      units: w.units,
      events: w.events,
    });
  }
  const sample = sampleUser
    ? { user_id: sampleUser, recent_items: await getRecentItems(store, { userId: sampleUser }, 5) }
    : null;
  return { trending, revenue_per_window: revenue, sample_user: sample };
}

export const stage: DemoStage = {
  name: 'ingest',
  order: 100,
  async run(ctx: DemoContext): Promise<IngestStageResult> {
    const { runtime, report, options } = ctx;
    const shopOptions = demoShopOptions(options, Date.now());
    const shop = generateShop(shopOptions);
    report.progress(
      `generating a synthetic shop: ${fmt(shop.products.length)} products, ${fmt(shop.customers.length)} customers, ${fmt(options.events)} events (seed ${options.seed})`,
    );
    if (!isEmbeddedRuntime(runtime)) throw new Error('the ingest stage needs the embedded local runtime');
    const embedded = runtime;
    const userEvents = new Map<string, number>();
    let latest = 0;
    let lastProgress = 0;
    function* tracked() {
      for (const e of shop.events()) {
        if (e.user_id) userEvents.set(e.user_id, (userEvents.get(e.user_id) ?? 0) + 1);
        const t = Date.parse(e.event_time);
        if (t > latest) latest = t;
        yield e;
      }
    }
    const summary = await replayThroughRuntime(embedded, report, tracked(), {
      onProgress: (t) => {
        if (t.received - lastProgress >= 5_000 || t.received === options.events) {
          lastProgress = t.received;
          report.progress(
            `  ingest: ${fmt(t.received)} / ${fmt(options.events)} events sent (${fmt(t.accepted)} accepted)`,
          );
        }
      },
    });
    let sampleUser: string | undefined;
    let best = 0;
    for (const [user, n] of userEvents) {
      if (n > best) {
        best = n;
        sampleUser = user;
      }
    }
    // The windows holding the newest events (the shop's clock, not the wall clock).
    const features = await readFeatures(embedded, latest || shop.end, sampleUser);
    return {
      ...summary,
      shop: shopOptions,
      features,
      landing: {
        records: embedded.firehose?.stats.delivered ?? 0,
        errors: embedded.firehose?.stats.errors ?? 0,
        dir: embedded.firehose?.landingDir ?? '',
      },
      quarantine_uri: embedded.env.QUARANTINE_URI ?? '',
    };
  },
  describe(result: unknown): string[] {
    const r = result as IngestStageResult;
    const lines = [
      `events: ${fmt(r.received)} received → ${fmt(r.accepted)} accepted, ${fmt(r.duplicates)} duplicates, ${fmt(r.rejected)} rejected`,
      `throughput: ${fmt(r.events_per_second)} events/s end to end (ingest → Kinesis → consumer → DynamoDB), ${fmt(r.consumer.write_requests)} DynamoDB write requests`,
    ];
    if (Object.keys(r.rejected_by_reason).length > 0) {
      lines.push(
        `rejected by reason: ${JSON.stringify(r.rejected_by_reason)} (quarantine: ${r.quarantine_uri})`,
      );
    }
    for (const t of r.features.trending) {
      const top = t.products.map((p) => `${p.product_id} (${p.score})`).join(', ') || '—';
      lines.push(`trending ${t.window} @ ${t.bucket_start}: ${top}`);
    }
    lines.push('revenue per hour (latest 6 windows):');
    for (const w of r.features.revenue_per_window) {
      lines.push(
        `  ${w.bucket_start}  revenue ${fmt(w.revenue, 2)}  orders ${fmt(w.orders)}  units ${fmt(w.units)}  events ${fmt(w.events)}`,
      );
    }
    if (r.features.sample_user) {
      const items = r.features.sample_user.recent_items
        .map((i) => `${i.product_id} (${i.event_type})`)
        .join(', ');
      lines.push(`recent items of ${r.features.sample_user.user_id}: ${items || '—'}`);
    }
    lines.push(`landing: ${fmt(r.landing.records)} raw events in ${r.landing.dir}`);
    return lines;
  },
};
