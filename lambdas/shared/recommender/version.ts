/**
 * Model version ids, shared by the training pipeline (which names each run) and the shop
 * generator (whose recommendation clicks carry the version that would have served them).
 */
import { randomBytes } from 'node:crypto';

/** A sortable, key-safe version id: `v20261121T101500Z-3fa2`. */
export function newVersion(now: Date, suffix = randomBytes(2).toString('hex')): string {
  return `v${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${suffix}`;
}
