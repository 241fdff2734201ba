import { describe, expect, it } from 'vitest';
import {
  EVENT_TYPES,
  eventColumns,
  eventJsonSchema,
  ingestRequestJsonSchema,
  LIMITS,
  type ParseResult,
  parseEvent,
  purchaseRevenue,
} from '../../lambdas/shared/event-schema.ts';
import { NOW, now, purchaseEvent, wireEvent } from '../fixtures/events.ts';

function reasonOf(r: ParseResult): string {
  return r.ok ? 'ok' : r.reason;
}

function parse(input: unknown): ParseResult {
  return parseEvent(input, { now });
}

function accepted(input: unknown) {
  const r = parse(input);
  if (!r.ok) throw new Error(`expected accepted, got ${r.reason}: ${r.detail}`);
  return r.event;
}

describe('event contract v1: required fields', () => {
  it.each(['event_id', 'event_type', 'event_time', 'session_id'])('%s is required', (field) => {
    const e = wireEvent();
    delete e[field];
    const r = parse(e);
    expect(reasonOf(r)).toBe('missing_field');
    if (!r.ok) expect(r.detail).toContain(field);
  });

  it('accepts every event type with what it needs', () => {
    for (const type of EVENT_TYPES) {
      const e =
        type === 'purchase'
          ? purchaseEvent()
          : wireEvent({
              event_type: type,
              ...(type === 'review' ? { rating: 4, text: 'good\nvery' } : {}),
              ...(type === 'recommendation_impression'
                ? { rec_id: 'v1:0123456789ab', rec_items: ['p-1', 'p-2'] }
                : {}),
            });
      expect(reasonOf(parse(e)), type).toBe('ok');
    }
  });

  it('rejects unknown event types', () => {
    expect(reasonOf(parse(wireEvent({ event_type: 'checkout_done' })))).toBe('unknown_event_type');
    expect(reasonOf(parse(wireEvent({ event_type: 7 })))).toBe('unknown_event_type');
  });
});

describe('ids', () => {
  it.each([
    ['too long', 'x'.repeat(65)],
    ['hash', 'USER#a#ITEM#b'],
    ['slash', 'a/b'],
    ['dot dot', '..'],
    ['single dot', '.'],
    ['space', 'a b'],
    ['newline', 'a\nb'],
    ['NUL', 'a\u0000b'],
    ['empty', ''],
    ['non-ASCII', 'café'],
    ['number', 42],
  ])('event_id rejects %s', (_name, value) => {
    const r = parse(wireEvent({ event_id: value }));
    expect(reasonOf(r)).toBe('invalid_field');
    expect(r.ok ? undefined : r.event_id).toBeUndefined();
  });

  it('accepts the full id charset at 64 characters', () => {
    const id = `Az09._:-${'a'.repeat(56)}`;
    expect(accepted(wireEvent({ event_id: id })).event_id).toBe(id);
  });

  it.each(['session_id', 'user_id', 'product_id', 'order_id', 'rec_id'])('%s uses the id rules', (field) => {
    expect(reasonOf(parse(wireEvent({ [field]: 'a#b' })))).toBe('invalid_field');
    expect(reasonOf(parse(wireEvent({ [field]: '../x' })))).toBe('invalid_field');
  });

  it('a rejection carries the event_id when it is valid (for per-event answers)', () => {
    const r = parse(wireEvent({ event_id: 'keep-me', price: -1 }));
    expect(r.ok ? '' : r.event_id).toBe('keep-me');
  });

  it('user_id may be null or absent (anonymous)', () => {
    expect(accepted(wireEvent({ user_id: null })).user_id).toBeNull();
    const e = wireEvent();
    delete e.user_id;
    expect(accepted(e).user_id).toBeNull();
    expect(accepted(wireEvent({ user_id: 'u-1' })).user_id).toBe('u-1');
  });
});

describe('event_time', () => {
  it('normalises zones to UTC with milliseconds', () => {
    expect(accepted(wireEvent({ event_time: '2026-11-21T12:00:00+02:00' })).event_time).toBe(
      '2026-11-21T10:00:00.000Z',
    );
    expect(accepted(wireEvent({ event_time: '2026-11-21T10:00Z' })).event_time).toBe(
      '2026-11-21T10:00:00.000Z',
    );
  });

  it.each([
    ['no zone', '2026-11-21T10:00:00'],
    ['date only', '2026-11-21'],
    ['garbage', 'yesterday'],
    ['epoch number', 1763719200000],
  ])('rejects %s', (_n, value) => {
    expect(reasonOf(parse(wireEvent({ event_time: value })))).toBe('invalid_event_time');
  });

  it('rejects impossible calendar dates', () => {
    expect(reasonOf(parse(wireEvent({ event_time: '2026-02-31T10:00:00Z' })))).toBe('invalid_event_time');
    expect(reasonOf(parse(wireEvent({ event_time: '2026-13-01T10:00:00Z' })))).toBe('invalid_event_time');
  });

  it('accepts history, rejects before 1970 and more than a day ahead', () => {
    expect(reasonOf(parse(wireEvent({ event_time: '2010-12-01T08:26:00Z' })))).toBe('ok');
    expect(reasonOf(parse(wireEvent({ event_time: '1969-12-31T23:59:59Z' })))).toBe('invalid_event_time');
    const soon = new Date(NOW + LIMITS.maxFutureSkewMs - 60_000).toISOString();
    const late = new Date(NOW + LIMITS.maxFutureSkewMs + 60_000).toISOString();
    expect(reasonOf(parse(wireEvent({ event_time: soon })))).toBe('ok');
    expect(reasonOf(parse(wireEvent({ event_time: late })))).toBe('future_event_time');
    expect(reasonOf(parse(wireEvent({ event_time: '9999-01-01T00:00:00Z' })))).toBe('future_event_time');
  });
});

describe('product, price, quantity, currency', () => {
  it.each(['product_view', 'add_to_cart', 'remove_from_cart', 'review'])('%s requires product_id', (type) => {
    expect(reasonOf(parse(wireEvent({ event_type: type, product_id: null, rating: 3 })))).toBe(
      'missing_product_id',
    );
  });

  it('page_view and search do not need a product', () => {
    expect(reasonOf(parse(wireEvent({ event_type: 'page_view', product_id: null })))).toBe('ok');
    expect(reasonOf(parse(wireEvent({ event_type: 'search', product_id: null, query: 'red shoes' })))).toBe(
      'ok',
    );
  });

  it.each([
    ['negative', -0.01],
    ['too large', LIMITS.maxPrice + 1],
    ['string', '12.50'],
    ['string NaN', 'NaN'],
    ['NaN (object path)', Number.NaN],
    ['Infinity (object path)', Number.POSITIVE_INFINITY],
  ])('price rejects %s', (_n, value) => {
    expect(reasonOf(parse(wireEvent({ price: value })))).toBe('invalid_field');
  });

  it('price 0 is valid (free items)', () => {
    expect(accepted(wireEvent({ price: 0 })).price).toBe(0);
  });

  it.each([
    ['zero', 0],
    ['negative', -1],
    ['fraction', 1.5],
    ['too large', LIMITS.maxQuantity + 1],
    ['string', '2'],
  ])('quantity rejects %s', (_n, value) => {
    expect(reasonOf(parse(wireEvent({ quantity: value })))).toBe('invalid_field');
  });

  it('quantity defaults to 1', () => {
    expect(accepted(wireEvent()).quantity).toBe(1);
    expect(accepted(wireEvent({ quantity: 3 })).quantity).toBe(3);
  });

  it('currency is an ISO 4217 code', () => {
    expect(accepted(wireEvent({ currency: 'EUR' })).currency).toBe('EUR');
    expect(reasonOf(parse(wireEvent({ currency: 'eur' })))).toBe('invalid_field');
    expect(reasonOf(parse(wireEvent({ currency: 'EURO' })))).toBe('invalid_field');
  });

  it('category is short text without control characters', () => {
    expect(accepted(wireEvent({ category: 'Books/Comics & More' })).category).toBe('Books/Comics & More');
    expect(reasonOf(parse(wireEvent({ category: 'a\tb' })))).toBe('invalid_field');
    expect(reasonOf(parse(wireEvent({ category: 'x'.repeat(201) })))).toBe('invalid_field');
    expect(reasonOf(parse(wireEvent({ category: '' })))).toBe('invalid_field');
  });
});

describe('purchase', () => {
  it('requires order_id', () => {
    expect(reasonOf(parse(purchaseEvent({ order_id: null })))).toBe('missing_order_id');
  });

  it('takes item lines, defaults their quantity, computes revenue', () => {
    const e = accepted(
      purchaseEvent({
        items: [
          { product_id: 'p-1', price: 2.5 },
          { product_id: 'p-2', quantity: 3, price: 1.1 },
        ],
      }),
    );
    expect(e.items).toEqual([
      { product_id: 'p-1', quantity: 1, price: 2.5 },
      { product_id: 'p-2', quantity: 3, price: 1.1 },
    ]);
    expect(purchaseRevenue(e)).toBe(5.8);
    expect(e.order_status).toBe('placed');
  });

  it('turns a top-level single line into one item', () => {
    const e = accepted(
      wireEvent({
        event_type: 'purchase',
        order_id: 'o-9',
        product_id: 'p-3',
        price: 4,
        quantity: 2,
        category: 'Toys',
      }),
    );
    expect(e.items).toEqual([{ product_id: 'p-3', quantity: 2, price: 4, category: 'Toys' }]);
  });

  it('rejects both forms at once, neither form, empty and oversized item lists', () => {
    expect(reasonOf(parse(purchaseEvent({ product_id: 'p-1' })))).toBe('ambiguous_purchase_lines');
    expect(reasonOf(parse(purchaseEvent({ items: undefined })))).toBe('missing_purchase_lines');
    expect(reasonOf(parse(purchaseEvent({ items: [] })))).toBe('invalid_field');
    const many = Array.from({ length: LIMITS.maxPurchaseLines + 1 }, (_, i) => ({
      product_id: `p${i}`,
      price: 1,
    }));
    expect(reasonOf(parse(purchaseEvent({ items: many })))).toBe('invalid_field');
    expect(reasonOf(parse(purchaseEvent({ items: [{ product_id: 'p', price: 1, colour: 'red' }] })))).toBe(
      'invalid_field',
    );
    expect(reasonOf(parse(purchaseEvent({ items: [{ product_id: 'p', price: 1, quantity: 0 }] })))).toBe(
      'invalid_field',
    );
  });

  it('items only on purchases', () => {
    expect(reasonOf(parse(wireEvent({ items: [{ product_id: 'p', price: 1 }] })))).toBe('invalid_field');
  });

  it('carries cancellations', () => {
    expect(accepted(purchaseEvent({ order_status: 'cancelled' })).order_status).toBe('cancelled');
    expect(reasonOf(parse(purchaseEvent({ order_status: 'refunded' })))).toBe('invalid_field');
    expect(accepted(wireEvent()).order_status).toBeNull();
  });
});

describe('review', () => {
  it('requires an integer rating 1-5', () => {
    expect(reasonOf(parse(wireEvent({ event_type: 'review' })))).toBe('missing_rating');
    for (const bad of [0, 6, 4.5, '5']) {
      expect(reasonOf(parse(wireEvent({ event_type: 'review', rating: bad }))), String(bad)).toBe(
        'invalid_field',
      );
    }
    expect(accepted(wireEvent({ event_type: 'review', rating: 5 })).rating).toBe(5);
  });

  it('text up to 5,000 characters, newlines allowed, other controls not', () => {
    const ok = 'a'.repeat(LIMITS.maxReviewTextChars);
    expect(accepted(wireEvent({ event_type: 'review', rating: 1, text: ok })).text).toBe(ok);
    expect(reasonOf(parse(wireEvent({ event_type: 'review', rating: 1, text: `${ok}a` })))).toBe(
      'invalid_field',
    );
    expect(reasonOf(parse(wireEvent({ event_type: 'review', rating: 1, text: 'line\r\n\tnext' })))).toBe(
      'ok',
    );
    expect(reasonOf(parse(wireEvent({ event_type: 'review', rating: 1, text: 'bell\u0007' })))).toBe(
      'invalid_field',
    );
    expect(reasonOf(parse(wireEvent({ event_type: 'review', rating: 1, text: 'sep\u2028' })))).toBe(
      'invalid_field',
    );
  });
});

describe('context fields and extra attributes', () => {
  it('keeps optional context fields', () => {
    const e = accepted(
      wireEvent({
        query: 'shoes',
        page_type: 'pdp',
        referrer: 'https://example.com/a?b=c',
        utm_source: 'news',
        utm_medium: 'email',
        utm_campaign: 'bf-2026',
        discount_code: 'BF10',
        device: 'mobile',
        rec_id: 'rec-1',
      }),
    );
    expect(e).toMatchObject({ query: 'shoes', utm_campaign: 'bf-2026', rec_id: 'rec-1', device: 'mobile' });
    expect(reasonOf(parse(wireEvent({ query: 'x'.repeat(LIMITS.maxFreeTextChars + 1) })))).toBe(
      'invalid_field',
    );
  });

  it('moves unknown fields to attributes as JSON, untrusted', () => {
    const e = accepted(wireEvent({ colour: 'red', size: 42, nested: { a: [1] } }));
    expect(e.attributes).toEqual({ colour: '"red"', size: '42', nested: '{"a":[1]}' });
    expect(e).not.toHaveProperty('colour');
  });

  it('rejects unsafe attribute names and too many attributes', () => {
    expect(reasonOf(parse(wireEvent({ 'a#b': 1 })))).toBe('invalid_attributes');
    expect(reasonOf(parse(wireEvent({ '../x': 1 })))).toBe('invalid_attributes');
    const many: Record<string, number> = {};
    for (let i = 0; i <= LIMITS.maxAttributes; i += 1) many[`k${i}`] = i;
    expect(reasonOf(parse(wireEvent(many)))).toBe('invalid_attributes');
    expect(reasonOf(parse(wireEvent({ blob: 'x'.repeat(LIMITS.maxAttributeBytes) })))).toBe(
      'invalid_attributes',
    );
  });

  it('re-parsing a normalised event gives the same event (the consumer re-validates)', () => {
    const first = accepted(wireEvent({ colour: 'red' }));
    const second = accepted(JSON.parse(JSON.stringify(first)));
    expect(second).toEqual(first);
    const p = accepted(purchaseEvent());
    expect(accepted(JSON.parse(JSON.stringify(p)))).toEqual(p);
    const single = accepted(
      wireEvent({
        event_type: 'purchase',
        order_id: 'o-1',
        product_id: 'p-1',
        price: 3,
        quantity: 2,
        order_status: 'cancelled',
      }),
    );
    expect(accepted(JSON.parse(JSON.stringify(single)))).toEqual(single);
  });
});

describe('not events', () => {
  it.each([
    ['array', [1, 2]],
    ['number', 3],
    ['null', null],
    ['boolean', true],
  ])('%s is not_an_object', (_n, value) => {
    expect(reasonOf(parse(value))).toBe('not_an_object');
  });

  it('raw strings are parsed; invalid JSON is invalid_json', () => {
    expect(reasonOf(parse('{"event_id":'))).toBe('invalid_json');
    expect(reasonOf(parse(JSON.stringify(wireEvent())))).toBe('ok');
    expect(reasonOf(parse('"just a string"'))).toBe('not_an_object');
  });
});

describe('derived contracts', () => {
  it('the request JSON Schema bounds the envelope only', () => {
    const s = ingestRequestJsonSchema();
    expect(s).toMatchObject({
      required: ['events'],
      properties: { events: { type: 'array', minItems: 1, maxItems: LIMITS.maxEventsPerRequest } },
    });
  });

  it('the event JSON Schema requires the four fields and allows extras', () => {
    const s = eventJsonSchema();
    expect(s.required).toEqual(
      expect.arrayContaining(['event_id', 'event_type', 'event_time', 'session_id']),
    );
    expect(s.additionalProperties).toBe(true);
  });

  it('lake columns come from the schema', () => {
    const cols = eventColumns();
    expect(cols.find((c) => c.name === 'event_time')).toEqual({
      name: 'event_time',
      type: 'timestamptz',
      required: true,
    });
    expect(cols.find((c) => c.name === 'quantity')?.type).toBe('int');
    expect(cols.find((c) => c.name === 'price')?.type).toBe('double');
    expect(cols.at(-1)?.name).toBe('attributes');
  });
});
