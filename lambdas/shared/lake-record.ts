/**
 * One record on its way into bronze (a Firehose record on AWS, a landing NDJSON line locally),
 * validated exactly the way ingest validates an event: UTF-8, size, nesting depth, lone
 * surrogates, JSON, then the event contract (`parseEvent`).
 *
 * Why one function: the Firehose transformation (`lambdas/firehose-bronze`) and the local
 * landing loader (`local/sfn/landing.ts`) must accept and reject the same records, so a poison
 * record is rejected with the same reason on AWS and locally, and never blocks a run.
 */
import { LIMITS, parseEvent, type RejectReason, type ShopEvent } from './event-schema.ts';

export type LakeRecordReason = RejectReason | 'not_utf8';

export type LakeRecordResult =
  | { readonly ok: true; readonly event: ShopEvent }
  | {
      readonly ok: false;
      readonly reason: LakeRecordReason;
      readonly detail: string;
      readonly eventId?: string;
    };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Validates one record's bytes (or already-decoded text). `arrivalMs` is the clock of the
 * future-skew check: the record's arrival, not the time the batch happens to run.
 */
export function validateLakeRecord(data: string | Uint8Array, arrivalMs: number): LakeRecordResult {
  if (data.length > LIMITS.maxEventBytes) {
    return {
      ok: false,
      reason: 'event_too_large',
      detail: `record is larger than ${LIMITS.maxEventBytes} bytes`,
    };
  }
  let text: string;
  if (typeof data === 'string') {
    text = data;
  } else {
    try {
      text = utf8.decode(data);
    } catch (error: unknown) {
      return {
        ok: false,
        reason: 'not_utf8',
        detail: error instanceof Error ? error.message : 'record is not UTF-8',
      };
    }
  }
  const parsed = parseEvent(text, { now: () => arrivalMs });
  if (parsed.ok) return { ok: true, event: parsed.event };
  return parsed.event_id === undefined
    ? { ok: false, reason: parsed.reason, detail: parsed.detail }
    : { ok: false, reason: parsed.reason, detail: parsed.detail, eventId: parsed.event_id };
}

const LONE_SURROGATE = /\p{Surrogate}/gu;

/**
 * A short, printable excerpt of a rejected record for operators (`ops.rejected_events`):
 * invalid UTF-8 and lone surrogates become U+FFFD so the excerpt itself can always be stored.
 */
export function recordExcerpt(data: string | Uint8Array, maxChars = 200): string {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  const cut = Array.from(text.slice(0, maxChars * 2))
    .slice(0, maxChars)
    .join('');
  return cut.replace(LONE_SURROGATE, '\uFFFD') + (text.length > cut.length ? '…' : '');
}
