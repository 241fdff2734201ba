import { describe, expect, it } from 'vitest';
import {
  bucketStart,
  bucketStartIso,
  WINDOW_RETENTION_SECONDS,
  windowExpiresAt,
} from '../../lambdas/shared/features/windows.ts';

const t = (iso: string) => Date.parse(iso);

describe('window bucketing', () => {
  it.each([
    ['2026-11-21T10:00:00.000Z', '2026-11-21T10:00:00.000Z'],
    ['2026-11-21T10:04:59.999Z', '2026-11-21T10:00:00.000Z'],
    ['2026-11-21T10:05:00.000Z', '2026-11-21T10:05:00.000Z'],
    ['2026-11-21T23:59:59.999Z', '2026-11-21T23:55:00.000Z'],
    ['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z'],
  ])('5m: %s → %s', (at, start) => {
    expect(bucketStartIso(t(at), '5m')).toBe(start);
  });

  it.each([
    ['2026-11-21T10:59:59.999Z', '2026-11-21T10:00:00.000Z'],
    ['2026-11-21T11:00:00.000Z', '2026-11-21T11:00:00.000Z'],
    ['2024-02-29T00:30:00.000Z', '2024-02-29T00:00:00.000Z'],
  ])('1h: %s → %s', (at, start) => {
    expect(bucketStartIso(t(at), '1h')).toBe(start);
  });

  it('buckets are UTC-aligned whatever the original zone (events are normalised first)', () => {
    // 12:07 at +05:30 is 06:37Z: 5m bucket 06:35Z, 1h bucket 06:00Z.
    const ms = t('2026-11-21T12:07:00+05:30');
    expect(bucketStartIso(ms, '5m')).toBe('2026-11-21T06:35:00.000Z');
    expect(bucketStartIso(ms, '1h')).toBe('2026-11-21T06:00:00.000Z');
  });

  it('every instant of a bucket maps to the same start, the next instant to the next bucket', () => {
    const start = t('2026-11-21T10:05:00Z');
    for (let ms = start; ms < start + 300_000; ms += 7_919) expect(bucketStart(ms, '5m')).toBe(start);
    expect(bucketStart(start + 300_000, '5m')).toBe(start + 300_000);
  });

  it('TTL is the bucket end plus the retention, deterministic', () => {
    const start = t('2026-11-21T10:00:00Z');
    expect(windowExpiresAt(start, '5m')).toBe((start + 300_000) / 1000 + WINDOW_RETENTION_SECONDS['5m']);
    expect(windowExpiresAt(start, '1h')).toBe((start + 3_600_000) / 1000 + WINDOW_RETENTION_SECONDS['1h']);
  });
});
