/**
 * Client-IP anonymisation for access logs. Raw addresses live only in bronze (short retention,
 * docs/access-logs.md); every layer after it sees
 *  - `client_hash`: HMAC-SHA256 of the address under a secret salt (first 128 bits, hex), a
 *    stable pseudonym for counting distinct clients and inferring sessions that cannot be
 *    reversed without the salt (a plain hash of an IPv4 address can be brute-forced in minutes);
 *  - `client_prefix`: the network, IPv4 truncated to /24 and IPv6 to /48 (coarse geography,
 *    abuse analysis), the usual truncation for analytics.
 * The salt is a Secrets Manager secret on AWS and `<state-dir>/secrets/access-log-salt` locally.
 */
import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';

/** Pseudonyms remembered (logs repeat a client's address many times). @default 50_000 */
export const CLIENT_HASH_CACHE_SIZE = 50_000;
const hashes = new LRUCache<string, string>({ max: CLIENT_HASH_CACHE_SIZE });

/** Minimum salt length: shorter salts are refused (a guessable salt makes the hash reversible). */
export const MIN_SALT_CHARS = 16;

export class AccessLogSaltError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccessLogSaltError';
  }
}

/** Checks a salt once, at init: fails fast instead of hashing with an empty or weak key. */
export function checkSalt(salt: string | undefined): string {
  if (!salt || salt.length < MIN_SALT_CHARS) {
    throw new AccessLogSaltError(`access-log salt must be at least ${MIN_SALT_CHARS} characters`);
  }
  return salt;
}

/** HMAC-SHA256 pseudonym of a client address (32 hex chars); null for no address. */
export function clientHash(ip: string | null, salt: string): string | null {
  if (!ip) return null;
  const key = `${salt}\u0000${ip}`;
  let hash = hashes.get(key);
  if (hash === undefined) {
    hash = createHmac('sha256', salt).update(ip.toLowerCase()).digest('hex').slice(0, 32);
    hashes.set(key, hash);
  }
  return hash;
}

/** Expands an IPv6 address to its eight 16-bit groups (null if not IPv6). */
function ipv6Groups(ip: string): number[] | null {
  if (!isIPv6(ip)) return null;
  let addr = ip.toLowerCase();
  const zone = addr.indexOf('%');
  if (zone >= 0) addr = addr.slice(0, zone);
  // Embedded IPv4 (::ffff:1.2.3.4): turn the last 32 bits into two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (v4?.[1]) {
    const o = v4[1].split('.').map(Number);
    addr = `${addr.slice(0, -v4[1].length)}${(((o[0] ?? 0) << 8) | (o[1] ?? 0)).toString(16)}:${(((o[2] ?? 0) << 8) | (o[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = addr.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...Array<string>(fill).fill('0'), ...t].map((g) => Number.parseInt(g, 16));
}

/**
 * The client's network: IPv4 /24 (`203.0.113.0/24`), IPv6 /48 (`2001:db8:85a3::/48`), IPv4-mapped
 * IPv6 as IPv4; null for anything that is not an IP address (a host name, `-`).
 */
export function clientPrefix(ip: string | null): string | null {
  if (!ip) return null;
  if (isIPv4(ip)) {
    const o = ip.split('.');
    return `${o[0]}.${o[1]}.${o[2]}.0/24`;
  }
  const g = ipv6Groups(ip);
  if (!g) return null;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    const hi = g[6] ?? 0;
    const lo = g[7] ?? 0;
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.0/24`;
  }
  return `${g
    .slice(0, 3)
    .map((x) => x.toString(16))
    .join(':')}::/48`;
}
