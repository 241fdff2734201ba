/**
 * Storage keys built from user input. Ids are validated against `ID_PATTERN` at the edge, and
 * every key builder checks again, so no id can forge another key (`USER#a#ITEM#b`), climb a
 * path (`../`) or smuggle control characters. Free text (categories) is percent-encoded.
 */
import { ID_PATTERN } from './event-schema.ts';

export class InvalidKeyPartError extends Error {
  constructor(
    readonly part: string,
    readonly value: string,
  ) {
    super(`invalid ${part} for a storage key: ${JSON.stringify(value.slice(0, 80))}`);
    this.name = 'InvalidKeyPartError';
  }
}

/** Returns the id unchanged if it is safe inside a key; throws `InvalidKeyPartError` otherwise. */
export function safeId(part: string, value: string): string {
  if (!ID_PATTERN.test(value) || value === '.' || value === '..') throw new InvalidKeyPartError(part, value);
  return value;
}

/**
 * Encodes free text (category names) for a key: percent-encoding of every byte outside
 * `A-Za-z0-9_-` (dots too), so `#`, `/`, `%` and control characters can never appear raw. Reversible.
 */
export function encodeKeyText(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeKeyText(encoded: string): string {
  return decodeURIComponent(encoded);
}

/** Joins validated parts into a single-table key: `USER#u1`, `TREND#5m#2026-11-21T10:05Z`. */
export function key(...parts: string[]): string {
  for (const p of parts) {
    if (p.includes('#') || p.length === 0) throw new InvalidKeyPartError('key part', p);
  }
  return parts.join('#');
}

/**
 * One S3 / file-system path segment from an id or a date. Rejects anything that is not a
 * plain segment, so a key can never leave its prefix.
 */
export function pathSegment(part: string, value: string): string {
  if (!/^[A-Za-z0-9._=:-]{1,128}$/.test(value) || value === '.' || value === '..') {
    throw new InvalidKeyPartError(part, value);
  }
  return value;
}
