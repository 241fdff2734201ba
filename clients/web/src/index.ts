/**
 * shoplake browser tracker: sends storefront events to `POST /events` of the shop API.
 *
 * Dependency-free (the event contract is imported for its types only, so nothing of zod ends up
 * in the bundle). What it does, and why:
 *  - every event gets a random `event_id` when it is tracked, never when it is sent, so a retried
 *    batch carries the same ids and the lake's dedup by `event_id` never counts it twice;
 *  - an anonymous `session_id` rotates after 30 minutes without events — the same gap the lake's
 *    sessionization uses (athena/etl_15_silver_sessions_insert.sql) — and `identify()` keeps it,
 *    so the lake stitches the anonymous events of that session to the user;
 *  - events are batched (by count and by time), retried with exponential backoff and jitter on
 *    429, 5xx and network errors (and per event when the API answers `failed`), dropped on other
 *    4xx (they can never succeed), kept in `localStorage` (capped, oldest dropped first) so a
 *    reload or an offline spell loses nothing, and handed to `navigator.sendBeacon` when the page
 *    is hidden (a `keepalive` fetch when an API key must travel in a header, which beacons cannot);
 *  - with `requireConsent`, nothing is sent or stored (no cookie, no `localStorage`) until
 *    `consent(true)`; events tracked before that are dropped, and `consent(false)` forgets all;
 *  - `utm_*` parameters and an external referrer are captured at the start of a session and
 *    carried by the session's events.
 */
import type { z } from 'zod';
import type { EventType, WireEventSchema } from '../../../lambdas/shared/event-schema.ts';

export type { EventType };

type WireEvent = z.input<typeof WireEventSchema>;
type Automatic = 'event_id' | 'event_type' | 'event_time' | 'session_id';
/** Fields a caller may set on any event; unknown extra fields become lake `attributes`. */
export type BaseProps = Partial<Omit<WireEvent, Automatic>> & Record<string, unknown>;
/** Properties of `track(type, props)`: the contract's required fields per event type. */
export type TrackProps<T extends EventType> = T extends 'product_view' | 'add_to_cart' | 'remove_from_cart'
  ? BaseProps & { product_id: string }
  : T extends 'review'
    ? BaseProps & { product_id: string; rating: number }
    : T extends 'purchase'
      ? BaseProps & { order_id: string }
      : BaseProps;

/** An event as sent on the wire. */
export type TrackedEvent = BaseProps & {
  event_id: string;
  event_type: EventType;
  event_time: string;
  session_id: string;
};

export interface TrackerOptions {
  /** Ingest URL, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/v1/events`. */
  endpoint: string;
  /** The public, write-only browser key (sent as `x-api-key`). Optional for `shoplake serve`. */
  apiKey?: string;
  /** Send when this many events are queued. @default 20 */
  batchSize?: number;
  /** Send queued events at the latest after this long, ms. @default 5000 */
  flushIntervalMs?: number;
  /** Most events kept while offline; the oldest are dropped beyond it. @default 500 */
  maxQueue?: number;
  /** First retry delay, ms (doubles per attempt, with jitter). @default 1000 */
  retryBaseMs?: number;
  /** Longest retry delay, ms. @default 60000 */
  retryMaxMs?: number;
  /** Nothing is sent or stored until `consent(true)`. @default false */
  requireConsent?: boolean;
  /** Prefix of the `localStorage` keys. @default 'shoplake' */
  storageKey?: string;
}

/** Session inactivity gap, ms: the lake's sessionization starts a new session after it. */
export const SESSION_TIMEOUT_MS = 30 * 60 * 1000;
/** The contract's largest request (LIMITS.maxEventsPerRequest). */
const MAX_BATCH = 500;

/** The browser APIs the tracker uses, injectable for tests. */
export interface TrackerEnv {
  fetch?: (
    url: string,
    init: Record<string, unknown>,
  ) => Promise<{ status: number; json(): Promise<unknown> }>;
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  random?: () => number;
  sendBeacon?: (url: string, body: string) => boolean;
  location?: { search: string; hostname: string };
  referrer?: string;
  userAgent?: string;
  /** Registers the page-hide handler. */
  onHide?: (fn: () => void) => void;
}

interface Storage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

interface Session {
  id: string;
  last: number;
  user?: string;
  ctx: BaseProps;
}

interface BrowserGlobals {
  fetch?: TrackerEnv['fetch'];
  localStorage?: Storage;
  navigator?: { sendBeacon?(url: string, body: string): boolean; userAgent?: string };
  location?: { search: string; hostname: string };
  document?: {
    referrer?: string;
    visibilityState?: string;
    addEventListener(type: string, fn: () => void): void;
  };
  addEventListener?(type: string, fn: () => void): void;
  crypto?: { randomUUID?(): string };
}

function browserEnv(): TrackerEnv {
  const g = globalThis as unknown as BrowserGlobals;
  let storage: Storage | undefined;
  try {
    storage = g.localStorage; // throws in some privacy modes
  } catch {
    storage = undefined;
  }
  const nav = g.navigator;
  return {
    fetch: g.fetch ? (url, init) => (g.fetch as NonNullable<TrackerEnv['fetch']>)(url, init) : undefined,
    storage,
    sendBeacon: nav?.sendBeacon ? (url, body) => nav.sendBeacon?.(url, body) === true : undefined,
    location: g.location,
    referrer: g.document?.referrer,
    userAgent: nav?.userAgent,
    onHide: (fn) => {
      g.document?.addEventListener('visibilitychange', () => {
        if (g.document?.visibilityState === 'hidden') fn();
      });
      g.addEventListener?.('pagehide', fn);
    },
  };
}

export interface Tracker {
  track<T extends EventType>(type: T, props?: TrackProps<T>): string | undefined;
  identify(userId: string | null): void;
  consent(granted: boolean): void;
  /** Sends what is queued now (resolves when the request settled). */
  flush(): Promise<void>;
  /** Hands the queue to `sendBeacon` (what a page-hide does). */
  flushOnHide(): void;
  /** The current session id (rotated after 30 minutes without events). */
  sessionId(): string;
  /** Events waiting to be sent. */
  queued(): readonly TrackedEvent[];
}

export function createTracker(options: TrackerOptions, env: TrackerEnv = browserEnv()): Tracker {
  const now = env.now ?? Date.now;
  const random = env.random ?? Math.random;
  const later = env.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const cancel = env.clearTimeout ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>));
  const batchSize = Math.min(options.batchSize ?? 20, MAX_BATCH);
  const interval = options.flushIntervalMs ?? 5000;
  const maxQueue = options.maxQueue ?? 500;
  const base = options.retryBaseMs ?? 1000;
  const maxDelay = options.retryMaxMs ?? 60_000;
  const prefix = options.storageKey ?? 'shoplake';
  const QUEUE = `${prefix}.queue`;
  const SESSION = `${prefix}.session`;
  const CONSENT = `${prefix}.consent`;

  const read = <T>(key: string): T | undefined => {
    try {
      const text = env.storage?.getItem(key);
      return text ? (JSON.parse(text) as T) : undefined;
    } catch {
      return undefined;
    }
  };
  const write = (key: string, value: unknown): void => {
    if (!allowed) return;
    try {
      env.storage?.setItem(key, JSON.stringify(value));
    } catch {
      // Storage full or disabled: the in-memory queue still works.
    }
  };

  // Consent is remembered (only once granted: storing a refusal would store something).
  let allowed = !options.requireConsent || read<boolean>(CONSENT) === true;
  let queue: TrackedEvent[] = allowed ? (read<TrackedEvent[]>(QUEUE) ?? []) : [];
  let session: Session | undefined = allowed ? read<Session>(SESSION) : undefined;
  let timer: unknown;
  let inFlight = false;
  let attempt = 0;

  const uuid = (): string => {
    const c = (globalThis as unknown as BrowserGlobals).crypto;
    if (c?.randomUUID && !env.random) return c.randomUUID();
    let s = '';
    for (let i = 0; i < 32; i += 1) s += Math.floor(random() * 16).toString(16);
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  };

  /** utm_* of the landing URL and an external referrer: the context of a new session. */
  const context = (): BaseProps => {
    const ctx: BaseProps = {};
    const params = new URLSearchParams(env.location?.search ?? '');
    for (const k of ['utm_source', 'utm_medium', 'utm_campaign'] as const) {
      const v = params.get(k);
      if (v) ctx[k] = v.slice(0, 200);
    }
    const ref = env.referrer;
    if (ref) {
      try {
        if (new URL(ref).hostname !== env.location?.hostname) ctx.referrer = ref.slice(0, 1000);
      } catch {
        // not a URL: ignore
      }
    }
    if (env.userAgent) ctx.device = /Mobi|Android/i.test(env.userAgent) ? 'mobile' : 'desktop';
    return ctx;
  };

  const current = (): Session => {
    const t = now();
    if (!session || t - session.last > SESSION_TIMEOUT_MS) {
      session = { id: uuid(), last: t, user: session?.user, ctx: context() };
    }
    return session;
  };

  const persist = (): void => {
    if (queue.length > maxQueue) queue = queue.slice(queue.length - maxQueue);
    write(QUEUE, queue);
  };

  const schedule = (ms: number): void => {
    if (timer !== undefined) cancel(timer);
    timer = later(() => {
      timer = undefined;
      void flush();
    }, ms);
  };

  const headers = (): Record<string, string> => {
    const h: Record<string, string> = { 'content-type': 'application/json' };
    if (options.apiKey) h['x-api-key'] = options.apiKey;
    return h;
  };

  const retryLater = (): void => {
    const delay = Math.min(maxDelay, base * 2 ** attempt) * (0.5 + random() / 2);
    attempt += 1;
    schedule(delay);
  };

  const remove = (ids: Set<string>): void => {
    queue = queue.filter((e) => !ids.has(e.event_id));
    persist();
  };

  async function flush(): Promise<void> {
    if (!allowed || inFlight || queue.length === 0 || !env.fetch) return;
    inFlight = true;
    const batch = queue.slice(0, batchSize);
    let retry = false;
    try {
      const res = await env.fetch(options.endpoint, {
        method: 'POST',
        headers: headers(),
        body: JSON.stringify({ events: batch }),
        credentials: 'omit',
        keepalive: false,
      });
      if (res.status === 429 || res.status >= 500) {
        retry = true;
      } else if (res.status >= 200 && res.status < 300) {
        // Per-event outcome: `failed` events are retried, accepted and rejected ones are done.
        const body = (await res.json().catch(() => undefined)) as
          | { results?: { event_id?: string; status?: string }[] }
          | undefined;
        const failed = new Set(
          (body?.results ?? []).filter((r) => r.status === 'failed').map((r) => r.event_id),
        );
        remove(new Set(batch.map((e) => e.event_id).filter((id) => !failed.has(id))));
        retry = failed.size > 0;
      } else {
        remove(new Set(batch.map((e) => e.event_id))); // other 4xx: resending cannot help
      }
    } catch {
      retry = true; // offline or network error: the events stay queued
    } finally {
      inFlight = false;
    }
    if (retry) {
      retryLater();
    } else {
      attempt = 0;
      if (queue.length >= batchSize) void flush();
      else if (queue.length > 0) schedule(interval);
    }
  }

  const flushOnHide = (): void => {
    if (!allowed || queue.length === 0) return;
    // Beacons and keepalive requests are limited to 64 KiB in flight: send in chunks below that.
    const chunks: TrackedEvent[][] = [[]];
    let bytes = 0;
    for (const e of queue) {
      const size = JSON.stringify(e).length + 1;
      const last = chunks[chunks.length - 1] as TrackedEvent[];
      if (last.length > 0 && (bytes + size > 60_000 || last.length >= MAX_BATCH)) {
        chunks.push([e]);
        bytes = size;
      } else {
        last.push(e);
        bytes += size;
      }
    }
    for (const chunk of chunks) {
      const body = JSON.stringify({ events: chunk });
      if (!options.apiKey && env.sendBeacon) {
        if (!env.sendBeacon(options.endpoint, body)) return; // stays stored for the next page
      } else if (env.fetch) {
        // API keys travel in a header, which a beacon cannot carry: a keepalive fetch outlives
        // the page the same way.
        env
          .fetch(options.endpoint, {
            method: 'POST',
            headers: headers(),
            body,
            keepalive: true,
            credentials: 'omit',
          })
          .catch(() => undefined);
      } else {
        return;
      }
      remove(new Set(chunk.map((e) => e.event_id)));
    }
  };

  env.onHide?.(flushOnHide);
  if (queue.length > 0) schedule(0);

  return {
    track(type, props) {
      if (!allowed) return undefined;
      const s = current();
      s.last = now();
      const event = {
        ...s.ctx,
        ...(s.user ? { user_id: s.user } : {}),
        ...props,
        event_id: uuid(),
        event_type: type,
        event_time: new Date(s.last).toISOString(),
        session_id: s.id,
      } as TrackedEvent;
      queue.push(event);
      write(SESSION, s);
      persist();
      if (queue.length >= batchSize) void flush();
      else if (timer === undefined) schedule(interval);
      return event.event_id;
    },
    identify(userId) {
      const s = current();
      s.user = userId ?? undefined;
      write(SESSION, s);
    },
    consent(granted) {
      allowed = granted;
      if (granted) {
        write(CONSENT, true);
        return;
      }
      queue = [];
      session = undefined;
      if (timer !== undefined) cancel(timer);
      timer = undefined;
      for (const k of [QUEUE, SESSION, CONSENT]) env.storage?.removeItem(k);
    },
    flush,
    flushOnHide,
    sessionId: () => current().id,
    queued: () => queue,
  };
}

let instance: Tracker | undefined;

function need(): Tracker {
  if (!instance) throw new Error('shoplake: call shoplake.init({ endpoint }) first');
  return instance;
}

/** What an impression needs of a recommendations answer (`GET /users/{id}/recommendations`). */
export interface RecommendationsAnswer {
  rec_id: string;
  model_version?: string | null;
  ab?: { experiment: string; arm: 'A' | 'B' } | null;
  items: readonly { product_id: string }[];
}

/**
 * The `recommendation_impression` properties of an answer as shown: its `rec_id`, the first
 * `shown` items in order, the serving version and, during an A/B test, the test and the arm (so
 * the lake reports the test per arm). Use: `track('recommendation_impression', impressionOf(answer))`.
 */
export function impressionOf(answer: RecommendationsAnswer, shown = answer.items.length): BaseProps {
  return {
    rec_id: answer.rec_id,
    rec_items: answer.items.slice(0, shown).map((i) => i.product_id),
    ...(answer.model_version ? { model_version: answer.model_version } : {}),
    ...(answer.ab ? { ab_experiment: answer.ab.experiment, ab_arm: answer.ab.arm } : {}),
  };
}

/** Starts the page's tracker (once; later calls return the same tracker). */
export function init(options: TrackerOptions): Tracker {
  instance ??= createTracker(options);
  return instance;
}
export function track<T extends EventType>(type: T, props?: TrackProps<T>): string | undefined {
  return need().track(type, props);
}
export function identify(userId: string | null): void {
  need().identify(userId);
}
export function consent(granted: boolean): void {
  need().consent(granted);
}
export function flush(): Promise<void> {
  return need().flush();
}
