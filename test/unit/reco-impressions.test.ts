import { describe, expect, it } from 'vitest';
import { parseEvent } from '../../lambdas/shared/event-schema.ts';
import { now, wireEvent } from '../fixtures/events.ts';

const impression = (extra: Record<string, unknown> = {}) =>
  wireEvent({
    event_type: 'recommendation_impression',
    product_id: null,
    category: null,
    price: null,
    rec_id: 'v20261121T101500Z-3fa2:0123456789ab',
    ...extra,
  } as Record<string, unknown>);

describe('recommendation_impression events', () => {
  it('accepts rec_id + rec_items (+ model_version) and stores them canonically in attributes', () => {
    const r = parseEvent(impression({ rec_items: ['p-1', 'p-7', 'p-3'] }), { now });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.event.event_type).toBe('recommendation_impression');
    expect(r.event.attributes).toEqual({ rec_items: 'p-1,p-7,p-3', model_version: 'v20261121T101500Z-3fa2' });
    // A normalised event re-sent validates to the same event.
    const again = parseEvent({ ...r.event }, { now });
    expect(again.ok && again.event.attributes).toEqual(r.event.attributes);
    const explicit = parseEvent(impression({ rec_items: ['p-1'], model_version: 'v20261121T101500Z-3fa2' }), {
      now,
    });
    expect(explicit.ok).toBe(true);
    // A rec_id of another shape needs the version spelled out.
    const other = parseEvent(impression({ rec_id: 'custom-1', rec_items: ['p-1'], model_version: 'v9' }), {
      now,
    });
    expect(other.ok && other.event.attributes.model_version).toBe('v9');
  });

  it('keeps the A/B test and arm of the response (ab_experiment, ab_arm) canonically', () => {
    const r = parseEvent(impression({ rec_items: ['p-1', 'p-2'], ab_experiment: 'exp-1', ab_arm: 'B' }), {
      now,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.event.attributes).toEqual({
      rec_items: 'p-1,p-2',
      model_version: 'v20261121T101500Z-3fa2',
      ab_experiment: 'exp-1',
      ab_arm: 'B',
    });
    const again = parseEvent({ ...r.event }, { now });
    expect(again.ok && again.event.attributes).toEqual(r.event.attributes);
  });

  it.each([
    [{ rec_id: null, rec_items: ['p-1'] }, 'missing_field', 'rec_id'],
    [{}, 'missing_field', 'rec_items'],
    [{ rec_items: [] }, 'missing_field', 'rec_items'],
    [{ rec_items: ['p-1', 'p-1'] }, 'invalid_field', 'twice'],
    [{ rec_items: ['p#1'] }, 'invalid_field', 'rec_items'],
    [{ rec_items: 'p-1' }, 'missing_field', 'rec_items'],
    [{ rec_items: Array.from({ length: 101 }, (_, i) => `p-${i}`) }, 'invalid_field', 'at most'],
    [{ rec_items: ['p-1'], model_version: 'v-other' }, 'invalid_field', 'does not match'],
    [{ rec_id: 'custom-1', rec_items: ['p-1'] }, 'invalid_field', 'model_version'],
    [{ rec_items: ['p-1'], ab_experiment: 'exp-1' }, 'invalid_field', 'both or neither'],
    [{ rec_items: ['p-1'], ab_arm: 'A' }, 'invalid_field', 'both or neither'],
    [
      { rec_items: ['p-1'], ab_experiment: 'exp-1', ab_arm: 'C' },
      'invalid_field',
      'ab_arm must be one of A, B',
    ],
    [{ rec_items: ['p-1'], ab_experiment: 'exp#1', ab_arm: 'A' }, 'invalid_field', 'ab_experiment must be'],
  ])('rejects %j with a reason', (extra, reason, detail) => {
    const r = parseEvent(impression(extra), { now });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe(reason);
    expect(r.detail).toContain(detail);
  });
});
