/**
 * The shop's second source: a marketing database in the shape of the public Olist marketing
 * funnel data set (marketing-qualified leads and closed deals; Olist, "Marketing Funnel by
 * Olist", Kaggle, CC BY-NC-SA 4.0 — shape only, the rows here are synthetic).
 *
 * A lead (MQL) has its first contact date, landing page and acquisition channel (`origin`);
 * a share of the leads close as a deal (the lead became a seller) some days later, with the
 * seller's segment, lead type, behaviour profile and declared monthly revenue.
 */
import { Rng } from './random.ts';

export interface MarketingLead {
  readonly mql_id: string;
  readonly first_contact_date: string; // YYYY-MM-DD
  readonly landing_page_id: string;
  readonly origin: string | null;
}

export interface MarketingDeal {
  readonly mql_id: string;
  readonly seller_id: string;
  readonly sdr_id: string;
  readonly sr_id: string;
  readonly won_date: string; // ISO timestamp
  readonly business_segment: string | null;
  readonly lead_type: string | null;
  readonly lead_behaviour_profile: string | null;
  readonly business_type: string | null;
  readonly declared_product_catalog_size: number | null;
  readonly declared_monthly_revenue: number;
}

export interface MarketingData {
  readonly leads: MarketingLead[];
  readonly deals: MarketingDeal[];
}

/** Channels of the Olist data set, with a conversion rate each (paid search converts best). */
const ORIGINS: readonly (readonly [string, number, number])[] = [
  // origin, weight, conversion
  ['organic_search', 0.29, 0.12],
  ['paid_search', 0.2, 0.14],
  ['social', 0.17, 0.06],
  ['unknown', 0.13, 0.1],
  ['direct_traffic', 0.06, 0.11],
  ['email', 0.05, 0.04],
  ['referral', 0.03, 0.1],
  ['other', 0.02, 0.03],
  ['display', 0.01, 0.05],
  ['other_publicities', 0.01, 0.05],
];
const SEGMENTS = [
  'home_decor',
  'health_beauty',
  'car_accessories',
  'household_utilities',
  'construction_tools_house_garden',
  'audio_video_electronics',
  'computers',
  'pet',
  'sports',
  'bags_backpacks',
] as const;
const LEAD_TYPES = [
  'online_medium',
  'online_big',
  'industry',
  'offline',
  'online_small',
  'online_beginner',
] as const;
const PROFILES = ['cat', 'eagle', 'wolf', 'shark'] as const;
const BUSINESS_TYPES = ['reseller', 'manufacturer', 'other'] as const;

function hex(rng: Rng, n = 32): string {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[rng.int(16)];
  return s;
}

export interface MarketingOptions {
  readonly seed?: number;
  readonly leads?: number;
  /** First day leads come in. */
  readonly start?: Date;
  readonly days?: number;
}

/** Generates leads and deals, reproducible from the seed. */
export function generateMarketing(options: MarketingOptions = {}): MarketingData {
  const rng = new Rng((options.seed ?? 42) ^ 0x6d61726b);
  const n = options.leads ?? 400;
  const start = (options.start ?? new Date('2026-01-01T00:00:00Z')).getTime();
  const days = options.days ?? 180;
  const pages = Array.from({ length: 20 }, () => hex(rng));
  const sdrs = Array.from({ length: 8 }, () => hex(rng));
  const srs = Array.from({ length: 5 }, () => hex(rng));
  const leads: MarketingLead[] = [];
  const deals: MarketingDeal[] = [];
  for (let i = 0; i < n; i++) {
    let u = rng.next();
    let chosen = ORIGINS[0] ?? ['unknown', 1, 0.1];
    for (const o of ORIGINS) {
      u -= o[1];
      chosen = o;
      if (u < 0) break;
    }
    const day = rng.int(days);
    const first = new Date(start + day * 86_400_000);
    const lead: MarketingLead = {
      mql_id: hex(rng),
      first_contact_date: first.toISOString().slice(0, 10),
      landing_page_id: rng.pick(pages),
      // Olist has leads without an origin: kept as NULL (silver reports them as 'unknown').
      origin: rng.chance(0.01) ? null : chosen[0],
    };
    leads.push(lead);
    if (rng.chance(chosen[2] * 1.5)) {
      const daysToClose = Math.min(Math.round(rng.exponential(45)), 400);
      const won = new Date(first.getTime() + daysToClose * 86_400_000 + rng.int(86_400) * 1000);
      deals.push({
        mql_id: lead.mql_id,
        seller_id: hex(rng),
        sdr_id: rng.pick(sdrs),
        sr_id: rng.pick(srs),
        won_date: won.toISOString(),
        business_segment: rng.pick(SEGMENTS),
        lead_type: rng.pick(LEAD_TYPES),
        lead_behaviour_profile: rng.chance(0.2) ? null : rng.pick(PROFILES),
        business_type: rng.pick(BUSINESS_TYPES),
        declared_product_catalog_size: rng.chance(0.9) ? null : rng.range(1, 2000),
        // Most sellers declare nothing (0), as in the Olist data.
        declared_monthly_revenue: rng.chance(0.9) ? 0 : rng.range(1, 500) * 1000,
      });
    }
  }
  return { leads, deals };
}
