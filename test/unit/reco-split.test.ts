import { describe, expect, it } from 'vitest';
import { parseInteractions, shopperHistories } from '../../lambdas/shared/recommender/data.ts';
import { leaveOneOut, timeQuantile, timeSplit } from '../../lambdas/shared/recommender/split.ts';
import { DEFAULT_EVENT_WEIGHTS, type Interaction } from '../../lambdas/shared/recommender/types.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (user: string, item: string, minute: number, type: Interaction['type'] = 'view'): Interaction => ({
  user,
  item,
  ts: T0 + minute * 60_000,
  type,
});

function histories(list: Interaction[]) {
  return shopperHistories(list, DEFAULT_EVENT_WEIGHTS);
}

describe('splits', () => {
  it('holds out last (test) and second-to-last (validation) distinct items in time order', () => {
    const h = histories([
      at('u1', 'c', 3),
      at('u1', 'a', 1),
      at('u1', 'b', 2, 'cart'),
      at('u1', 'a', 4, 'purchase'), // repeat of a: collapses into a's first entry
      at('u1', 'd', 5),
      at('u2', 'x', 1),
      at('u2', 'y', 2),
    ]);
    const s = leaveOneOut(h);
    expect(s.train.get('u1')?.map((e) => e.item)).toEqual(['a', 'b']);
    expect(s.validation.get('u1')?.item).toBe('c');
    expect(s.test.get('u1')?.item).toBe('d');
    expect(s.train.get('u1')?.[0]?.weight).toBe(DEFAULT_EVENT_WEIGHTS.purchase);
    // Fewer than 3 items: trained on, never evaluated.
    expect(s.train.get('u2')?.map((e) => e.item)).toEqual(['x', 'y']);
    expect(s.test.has('u2')).toBe(false);
  });

  it('cuts globally by time', () => {
    const h = histories([at('u1', 'a', 1), at('u1', 'b', 2), at('u1', 'c', 9), at('u2', 'z', 10)]);
    const cut = timeQuantile(h, 0.5);
    expect(cut).toBe(T0 + 9 * 60_000);
    const s = timeSplit(h, cut);
    expect(s.train.get('u1')?.map((e) => e.item)).toEqual(['a', 'b']);
    expect(s.test.get('u1')?.map((e) => e.item)).toEqual(['c']);
    // u2 has no past: not evaluated.
    expect(s.test.has('u2')).toBe(false);
  });
});

describe('interaction parsing', () => {
  it('reads CSV with event types and rejects bad lines with a reason', () => {
    const p = parseInteractions(
      'user_id,item_id,timestamp,event_type\nu1,i1,1700000000,view\nu1,i2,2026-01-01T00:00:00Z,add_to_cart\n,i3,1,view\nu2,i4,notatime,view\nu2,i5,1,teleport\n',
      'csv',
    );
    expect(p.interactions).toEqual([
      { user: 'u1', item: 'i1', ts: 1_700_000_000_000, type: 'view' },
      { user: 'u1', item: 'i2', ts: T0, type: 'cart' },
    ]);
    expect(p.rejected.map((r) => r.line)).toEqual([4, 5, 6]);
  });

  it('derives purchases from the UCI Online Retail layout, counting what it skips', () => {
    const p = parseInteractions(
      [
        'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
        '536365,85123A,"WHITE HANGING HEART T-LIGHT HOLDER, BIG",6,2010-12-01 08:26:00,2.55,17850,United Kingdom',
        'C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527,United Kingdom',
        '536414,22139,,56,2010-12-01 11:52:00,0,,United Kingdom',
      ].join('\n'),
      'online-retail',
    );
    expect(p.interactions).toEqual([
      {
        user: '17850',
        item: '85123A',
        ts: Date.parse('2010-12-01T08:26:00Z'),
        type: 'purchase',
        session: '536365',
      },
    ]);
    expect(p.skipped).toEqual({ 'cancelled invoice': 1, 'no customer id': 1 });
  });

  it('reads whitespace-separated user item lines in file order', () => {
    const p = parseInteractions('1 10\n1 11\n2\t10\nbad\n', 'lines');
    expect(p.interactions.map((i) => `${i.user}:${i.item}`)).toEqual(['1:10', '1:11', '2:10']);
    expect(p.rejected).toEqual([{ line: 4, reason: 'expected "user item"' }]);
  });
});
