/**
 * User-agent classification for access logs: browser family, OS, device class and a bot flag,
 * from maintained parsers (ua-parser-js 1.x, MIT; isbot, Unlicense) rather than hand-written
 * patterns. Real logs repeat a few thousand distinct user agents millions of times, so results
 * are memoised in a bounded LRU cache: the parser runs once per distinct string.
 */
import { findBotMatch, isbot } from 'isbot';
import { LRUCache } from 'lru-cache';
import { UAParser } from 'ua-parser-js';

export interface UserAgentInfo {
  /** Browser family (`Chrome`, `Mobile Safari`), the bot's token for bots, `Other` when unknown. */
  readonly family: string;
  /** Operating system name, or `Other`. */
  readonly os: string;
  /** `desktop`, `mobile`, `tablet`, `bot`, or another ua-parser device type (`smarttv`, …). */
  readonly device: string;
  readonly isBot: boolean;
}

/** Distinct user agents remembered. @default 20_000 */
export const UA_CACHE_SIZE = 20_000;
/** User agents longer than this are classified on their first `MAX_UA_CHARS` characters. */
export const MAX_UA_CHARS = 1024;

const cache = new LRUCache<string, UserAgentInfo>({ max: UA_CACHE_SIZE });
const parser = new UAParser();
const NONE: UserAgentInfo = { family: 'Other', os: 'Other', device: 'unknown', isBot: false };

function classify(ua: string): UserAgentInfo {
  parser.setUA(ua);
  const browser = parser.getBrowser().name;
  const os = parser.getOS().name ?? 'Other';
  const bot = isbot(ua);
  if (bot) {
    const match = findBotMatch(ua);
    return { family: browser ?? (match ? match.slice(0, 40) : 'Other bot'), os, device: 'bot', isBot: true };
  }
  const type = parser.getDevice().type;
  return { family: browser ?? 'Other', os, device: type ?? 'desktop', isBot: false };
}

/** Classifies a user agent (`null`/empty/`-`: unknown, not a bot). */
export function classifyUserAgent(userAgent: string | null | undefined): UserAgentInfo {
  if (!userAgent || userAgent === '-') return NONE;
  const ua = userAgent.length > MAX_UA_CHARS ? userAgent.slice(0, MAX_UA_CHARS) : userAgent;
  let info = cache.get(ua);
  if (!info) {
    info = classify(ua);
    cache.set(ua, info);
  }
  return info;
}
