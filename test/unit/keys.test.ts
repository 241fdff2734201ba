import { describe, expect, it } from 'vitest';
import {
  categoryAttr,
  markerKey,
  padSequence,
  parseProductAttr,
  productAttr,
  sessionRecentKey,
  userRecentKey,
  windowKey,
} from '../../lambdas/shared/features/feature-keys.ts';
import {
  decodeKeyText,
  encodeKeyText,
  InvalidKeyPartError,
  key,
  pathSegment,
  safeId,
} from '../../lambdas/shared/keys.ts';
import { assertSafeObjectKey, InvalidObjectKeyError } from '../../lambdas/shared/object-store.ts';
import { quarantineKey } from '../../lambdas/shared/quarantine.ts';

const HOSTILE_IDS = [
  'USER#a#ITEM#b',
  '../etc/passwd',
  '..',
  '.',
  'a/b',
  'a\u0000b',
  'a\nb',
  'a b',
  '',
  'x'.repeat(65),
  'ü',
];

describe('safeId', () => {
  it.each(HOSTILE_IDS)('rejects %j', (value) => {
    expect(() => safeId('user_id', value)).toThrow(InvalidKeyPartError);
  });

  it('passes valid ids through unchanged', () => {
    expect(safeId('user_id', 'u-1.2:3_x')).toBe('u-1.2:3_x');
  });
});

describe('key', () => {
  it('joins parts with #', () => {
    expect(key('USER', 'u1')).toBe('USER#u1');
  });

  it('refuses a part that contains # or is empty, so ids cannot forge keys', () => {
    expect(() => key('USER', 'a#ITEM#b')).toThrow(InvalidKeyPartError);
    expect(() => key('USER', '')).toThrow(InvalidKeyPartError);
  });
});

describe('encodeKeyText', () => {
  it.each([
    ['Home & Garden', 'Home%20%26%20Garden'],
    ['a#b', 'a%23b'],
    ['../x', '%2E%2E%2Fx'],
    ['100%', '100%25'],
    ['tab\there', 'tab%09here'],
    ['café', 'caf%C3%A9'],
  ])('encodes %j as %j and decodes back', (raw, encoded) => {
    expect(encodeKeyText(raw)).toBe(encoded);
    expect(decodeKeyText(encodeKeyText(raw))).toBe(raw);
  });

  it('never emits #, /, . or control characters', () => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking their absence
    const forbidden = /[#/.\u0000-\u001F]/;
    for (const raw of ['#/#', '\u0000\u001f', '...', 'USER#a#ITEM#b', '\u2028']) {
      expect(encodeKeyText(raw)).not.toMatch(forbidden);
    }
  });
});

describe('pathSegment', () => {
  it('accepts date and id segments', () => {
    expect(pathSegment('dt', '2026-11-21')).toBe('2026-11-21');
    expect(pathSegment('source', 'source=ingest')).toBe('source=ingest');
  });

  it.each(['..', '.', 'a/b', 'a\\b', 'a b', '', 'x'.repeat(129), 'a\u0000'])('rejects %j', (value) => {
    expect(() => pathSegment('part', value)).toThrow(InvalidKeyPartError);
  });
});

describe('object keys', () => {
  it.each(['../x', 'a/../b', '/abs', 'a//b', 'a/./b', 'a\u0000/b', 'a b/c', ''])('refuses %j', (k) => {
    expect(() => assertSafeObjectKey(k)).toThrow(InvalidObjectKeyError);
  });

  it('quarantine keys are partitioned by source and day', () => {
    expect(quarantineKey('ingest', Date.parse('2026-11-21T23:59:59Z'), 'abc')).toBe(
      'quarantine/source=ingest/dt=2026-11-21/abc.jsonl',
    );
    expect(() => quarantineKey('ingest', 0, '../x')).toThrow(InvalidKeyPartError);
  });
});

describe('feature keys', () => {
  it('build the single-table layout', () => {
    expect(markerKey('e-1')).toEqual({ pk: 'EVENT#e-1', sk: 'EVENT' });
    expect(userRecentKey('u-1')).toEqual({ pk: 'USER#u-1', sk: 'RECENT' });
    expect(sessionRecentKey('s-1')).toEqual({ pk: 'SESSION#s-1', sk: 'RECENT' });
    expect(windowKey('5m', Date.parse('2026-11-21T10:05:00Z'), 'shardId-000000000001')).toEqual({
      pk: 'TREND#5m#2026-11-21T10:05:00.000Z',
      sk: 'SHARD#shardId-000000000001',
    });
  });

  it.each(HOSTILE_IDS)('refuse hostile id %j', (value) => {
    expect(() => userRecentKey(value)).toThrow(InvalidKeyPartError);
    expect(() => sessionRecentKey(value)).toThrow(InvalidKeyPartError);
    expect(() => markerKey(value)).toThrow(InvalidKeyPartError);
    expect(() => productAttr(value, null)).toThrow(InvalidKeyPartError);
  });

  it('encode shard ids and categories instead of trusting them', () => {
    expect(windowKey('1h', 0, 'shard#1/..').sk).toBe('SHARD#shard%231%2F%2E%2E');
    expect(categoryAttr('Toys#1')).toBe('c#Toys%231');
    expect(productAttr('p-1', 'A/B')).toBe('p#p-1#A%2FB');
    expect(parseProductAttr('p#p-1#A%2FB')).toEqual({ productId: 'p-1', encodedCategory: 'A%2FB' });
    expect(parseProductAttr('p#p-1')).toEqual({ productId: 'p-1', encodedCategory: null });
    expect(parseProductAttr('c#x')).toBeNull();
  });

  it('pads sequence numbers so string order is numeric order', () => {
    const small = padSequence('9');
    const big = padSequence('10');
    expect(small.length).toBe(128);
    expect(small < big).toBe(true);
    expect(padSequence('4'.repeat(128))).toBe('4'.repeat(128));
    expect(() => padSequence('1'.repeat(129))).toThrow();
    expect(() => padSequence('12a')).toThrow();
    expect(() => padSequence('')).toThrow();
  });
});
