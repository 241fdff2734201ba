import { describe, expect, it } from 'vitest';
import { clientHash, clientPrefix } from '../../lambdas/shared/access-log/anonymise.ts';
import {
  MAX_HEADER_CHARS,
  MAX_LINE_BYTES,
  MAX_PATH_CHARS,
  parseAccessLogBytes,
  parseAccessLogLine,
  parseClfTime,
} from '../../lambdas/shared/access-log/parse.ts';
import { PRODUCT_PAGE_ROUTES, routeTemplate } from '../../lambdas/shared/access-log/route.ts';
import { accessLogRow, queryKeys, RecordIds, referrerHost } from '../../lambdas/shared/access-log/row.ts';
import { classifyUserAgent } from '../../lambdas/shared/access-log/user-agent.ts';
import { landingChunks } from '../../local/access-log/ingest.ts';

const SALT = 'test-salt-0123456789abcdef';
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';
// A line of the public "Access Log E-Commerce" data (Zaker et al., 2019): NCSA Combined plus a
// trailing "-" (X-Forwarded-For).
const KAGGLE =
  '54.36.149.41 - - [22/Jan/2019:03:56:14 +0330] "GET /filter/27|13%20%D9%85%DA%AF%D8%A7%D9%BE%DB%8C%DA%A9%D8%B3%D9%84,p53 HTTP/1.1" 200 30577 "-" "Mozilla/5.0 (compatible; AhrefsBot/6.1; +http://ahrefs.com/robot/)" "-"';

function ok(line: string, format: Parameters<typeof parseAccessLogLine>[1] = 'auto') {
  const r = parseAccessLogLine(line, format);
  if (!r.ok) throw new Error(`rejected: ${r.reason} ${r.detail}`);
  return r.request;
}

describe('NCSA Combined', () => {
  it('parses a real-looking line with its time zone', () => {
    const r = ok(
      `203.0.113.9 - frank [10/Oct/2026:13:55:36 -0700] "GET /product/P000123?ref=home&utm_source=mail HTTP/1.1" 200 2326 "https://www.google.com/search?q=shoes" "${CHROME}"`,
      'combined',
    );
    expect(r).toMatchObject({
      log_format: 'combined',
      client_ip: '203.0.113.9',
      method: 'GET',
      target: '/product/P000123?ref=home&utm_source=mail',
      protocol: 'HTTP/1.1',
      status: 200,
      bytes: 2326,
      latency_ms: null,
      referrer: 'https://www.google.com/search?q=shoes',
      user_agent: CHROME,
    });
    expect(new Date(r.request_time).toISOString()).toBe('2026-10-10T20:55:36.000Z');
  });

  it('parses the Kaggle e-commerce line (extra trailing field, +0330 zone, bot)', () => {
    const r = ok(KAGGLE, 'combined');
    expect(new Date(r.request_time).toISOString()).toBe('2019-01-22T00:26:14.000Z');
    expect(r).toMatchObject({ status: 200, bytes: 30577 });
    const row = accessLogRow(r, { recordId: 'x', ingestedAtMs: 0, salt: SALT });
    expect(row.is_bot).toBe(true);
    expect(row.ua_device).toBe('bot');
    expect(row.route).toBe('/filter/{param}');
  });

  it('accepts Common Log Format (no referrer/user agent) and "-" bytes', () => {
    const r = ok('127.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "HEAD / HTTP/1.0" 304 -', 'combined');
    expect(r).toMatchObject({
      method: 'HEAD',
      target: '/',
      status: 304,
      bytes: null,
      referrer: null,
      user_agent: null,
    });
  });

  it('keeps quotes escaped inside fields (Apache \\" and nginx \\x22)', () => {
    const r = ok(
      `198.51.100.7 - - [04/Dec/2026:10:00:00 +0000] "GET /search?q=\\"red shoes\\" HTTP/1.1" 200 10 "-" "Evil \\x22agent\\x22 \\"quoted\\""`,
    );
    expect(r.target).toBe('/search?q="red shoes"');
    expect(r.user_agent).toBe('Evil "agent" "quoted"');
  });

  it('decodes nginx \\xHH byte escapes of UTF-8 text', () => {
    const r = ok('203.0.113.9 - - [04/Dec/2026:10:00:00 +0000] "GET /caf\\xC3\\xA9 HTTP/1.1" 200 1 "-" "-"');
    expect(r.target).toBe('/café');
  });

  it('keeps a request line that is not one (TLS handshake on port 80) with null method', () => {
    const r = ok(
      '192.0.2.1 - - [04/Dec/2026:10:00:00 +0000] "\\x16\\x03\\x01\\x02\\x00\\x01" 400 157 "-" "-"',
    );
    expect(r).toMatchObject({ method: null, target: null, status: 400, user_agent: null });
    expect(accessLogRow(r, { recordId: 'x', ingestedAtMs: 0, salt: SALT }).route).toBe('{unparsed}');
    expect(ok('192.0.2.1 - - [04/Dec/2026:10:00:00 +0000] "-" 408 0 "-" "-"').method).toBeNull();
  });

  it('parses IPv6 clients', () => {
    const r = ok(
      `2001:db8:85a3::8a2e:370:7334 - - [04/Dec/2026:10:00:00 +0000] "GET / HTTP/2.0" 200 5 "-" "${IPHONE}"`,
    );
    expect(r.client_ip).toBe('2001:db8:85a3::8a2e:370:7334');
  });

  it('rejects malformed, truncated and wrong-field lines with a reason', () => {
    const cases: [string, string][] = [
      ['', 'malformed_line'],
      ['garbage', 'malformed_line'],
      ['203.0.113.9 - - [10/Oct/2026:13:55:36 -0700] "GET /product/P1 HTTP/1.1" 200 23', 'ok'],
      ['203.0.113.9 - - [10/Oct/2026:13:55:36 -0700] "GET /product/P1 HTT', 'malformed_line'],
      ['203.0.113.9 - - [10/Oct/2026:13:55:36 -0700] "GET / HTTP/1.1" 200 23 "-" "trunc', 'malformed_line'],
      ['203.0.113.9 - - [10/Oct/2026:13:55', 'malformed_line'],
      ['203.0.113.9 - - [31/Feb/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', 'invalid_timestamp'],
      ['203.0.113.9 - - [10/Foo/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "-"', 'invalid_timestamp'],
      ['203.0.113.9 - - [2026-10-10T13:55:36Z] "GET / HTTP/1.1" 200 1 "-" "-"', 'invalid_timestamp'],
      ['203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 99 1 "-" "-"', 'invalid_status'],
      ['203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" OK 1 "-" "-"', 'invalid_status'],
      ['203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 12x "-" "-"', 'malformed_line'],
    ];
    for (const [line, reason] of cases) {
      const r = parseAccessLogLine(line, 'combined');
      expect(r.ok ? 'ok' : r.reason, line).toBe(reason);
    }
  });

  it('handles very long URLs: capped path, rejected beyond the line limit', () => {
    const long = `/search/${'a'.repeat(10_000)}?${Array.from({ length: 100 }, (_, i) => `k${i}=v`).join('&')}`;
    const r = ok(`203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET ${long} HTTP/1.1" 414 0 "-" "-"`);
    const row = accessLogRow(r, { recordId: 'x', ingestedAtMs: 0, salt: SALT });
    expect(row.path?.length).toBe(MAX_PATH_CHARS);
    expect(row.route).toBe('/search/{param}');
    expect(row.query_keys).toHaveLength(32);
    const huge = `203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET /${'b'.repeat(MAX_LINE_BYTES)} HTTP/1.1" 414 0 "-" "-"`;
    expect(parseAccessLogLine(huge)).toMatchObject({ ok: false, reason: 'line_too_long' });
    const longUa = ok(
      `203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 0 "-" "${'x'.repeat(5000)}"`,
    );
    expect(longUa.user_agent?.length).toBe(MAX_HEADER_CHARS);
  });

  it('rejects non-UTF-8 bytes (not_utf8) and accepts UTF-8 ones', () => {
    const prefix = Buffer.from('203.0.113.9 - - [10/Oct/2026:13:55:36 +0000] "GET /caf');
    const suffix = Buffer.from(' HTTP/1.1" 200 1 "-" "-"');
    const latin1 = Buffer.concat([prefix, Buffer.from([0xe9]), suffix]);
    expect(parseAccessLogBytes(latin1)).toMatchObject({ ok: false, reason: 'not_utf8' });
    const good = parseAccessLogBytes(Buffer.concat([prefix, Buffer.from('é'), suffix]));
    expect(good.ok && good.request.target).toBe('/café');
  });
});

describe('nginx with $request_time', () => {
  it('reads the latency in seconds (ms resolution) after the user agent', () => {
    const r = ok(
      `203.0.113.9 - - [04/Dec/2026:10:00:00 +0000] "POST /cart/add HTTP/1.1" 302 0 "https://shop.example/product/P000007" "${IPHONE}" 0.123`,
      'nginx',
    );
    expect(r).toMatchObject({ log_format: 'nginx', latency_ms: 123, method: 'POST', status: 302 });
    const row = accessLogRow(r, { recordId: 'x', ingestedAtMs: 0, salt: SALT });
    expect(row).toMatchObject({ referrer_host: 'shop.example', ua_device: 'mobile', is_bot: false });
  });

  it('accepts $request_time after extra quoted fields and auto-detects it', () => {
    const r = ok(
      `203.0.113.9 - - [04/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-" "10.0.0.1" 1.5`,
    );
    expect(r).toMatchObject({ log_format: 'nginx', latency_ms: 1500 });
  });

  it('rejects a line without $request_time when the format is nginx', () => {
    const r = parseAccessLogLine(
      '203.0.113.9 - - [04/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"',
      'nginx',
    );
    expect(r).toMatchObject({ ok: false, reason: 'missing_request_time' });
  });
});

describe('API Gateway / CloudFront JSON', () => {
  it('parses shoplake API Gateway access logs (resourcePath is the route)', () => {
    const r = ok(
      JSON.stringify({
        requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
        ip: '2001:db8::1',
        requestTimeEpoch: 1_796_000_000_123,
        httpMethod: 'GET',
        path: '/items/P000001/similar',
        resourcePath: '/items/{productId}/similar',
        status: '200',
        protocol: 'HTTP/1.1',
        responseLength: '512',
        responseLatency: '37',
        userAgent: 'curl/8.5.0',
        domainName: 'abc.execute-api.eu-west-1.amazonaws.com',
      }),
      'apigw',
    );
    expect(r).toMatchObject({
      log_format: 'apigw',
      request_time: 1_796_000_000_123,
      status: 200,
      bytes: 512,
      latency_ms: 37,
      route: '/items/{productId}/similar',
      request_id: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    });
  });

  it('parses API Gateway standard JSON fields (CLF requestTime, "-" length)', () => {
    const r = ok(
      '{"requestId":"r1","ip":"198.51.100.1","caller":"-","user":"-","requestTime":"04/Dec/2026:23:23:33 +0000","httpMethod":"POST","resourcePath":"/events","status":"400","protocol":"HTTP/1.1","responseLength":"-"}',
    );
    expect(r).toMatchObject({ status: 400, bytes: null, route: '/events', target: '/events' });
    expect(new Date(r.request_time).toISOString()).toBe('2026-12-04T23:23:33.000Z');
  });

  it('parses CloudFront JSON field names (URL-encoded user agent, seconds)', () => {
    const r = ok(
      JSON.stringify({
        timestamp: '1796000000.5',
        'c-ip': '192.0.2.44',
        'cs-method': 'GET',
        'cs-uri-stem': '/product/P000042',
        'cs-uri-query': 'color=red&size=9',
        'sc-status': 200,
        'sc-bytes': 1234,
        'time-taken': 0.05,
        'cs(Referer)': 'https://ref.example/x',
        'cs(User-Agent)': 'Mozilla/5.0%20(compatible;%20Googlebot/2.1;%20+http://www.google.com/bot.html)',
        'x-edge-request-id': 'edge-1',
      }),
    );
    expect(r).toMatchObject({
      request_time: 1_796_000_000_500,
      latency_ms: 50,
      target: '/product/P000042?color=red&size=9',
    });
    const row = accessLogRow(r, { recordId: 'x', ingestedAtMs: 0, salt: SALT });
    expect(row).toMatchObject({ route: '/product/{id}', query_keys: ['color', 'size'], is_bot: true });
  });

  it('rejects broken JSON lines with a reason', () => {
    expect(parseAccessLogLine('{"requestId": "x", "status": 2', 'apigw')).toMatchObject({
      reason: 'invalid_json',
    });
    expect(parseAccessLogLine('[1,2]', 'apigw')).toMatchObject({ reason: 'invalid_json' });
    expect(parseAccessLogLine('{"httpMethod":"GET","path":"/","status":"200"}')).toMatchObject({
      reason: 'invalid_timestamp',
    });
    expect(parseAccessLogLine('{"requestTimeEpoch":1,"path":"/","status":"200"}')).toMatchObject({
      reason: 'missing_field',
    });
    expect(
      parseAccessLogLine('{"requestTimeEpoch":1,"httpMethod":"GET","path":"/","status":"abc"}'),
    ).toMatchObject({ reason: 'invalid_status' });
  });
});

describe('derivations', () => {
  it('collapses ids in route templates', () => {
    const cases: [string, string][] = [
      ['/', '/'],
      ['/product/P000123', '/product/{id}'],
      ['/product/31893/62100/some-name', '/product/{id}/{id}/some-name'],
      ['/image/60844/productModel/200x200', '/image/{id}/productmodel/{id}'],
      ['/users/0f8fad5b-d9cb-469f-a165-70867728950e/recommendations', '/users/{id}/recommendations'],
      ['/static/5f2b9c1e0a7d4e31/app.js', '/static/{id}/app.js'],
      ['/filter/b41,b113?page=2', '/filter/{param}'],
      ['/search/%D8%B3%D9%84', '/search/{param}'],
      ['/a/b/c/d/e/f/g/h/i/j', '/a/b/c/d/e/f/g/h/{…}'],
      ['http://evil/x', '{invalid}'],
      ['*', '*'],
    ];
    for (const [path, route] of cases) expect(routeTemplate(path), path).toBe(route);
    expect(PRODUCT_PAGE_ROUTES).toContain(routeTemplate('/product/P000999'));
  });

  it('keeps query keys, never values', () => {
    expect(queryKeys('/p?email=a%40b.c&token=SECRET&email=x&a+b=1&=v&flag')).toEqual([
      'email',
      'token',
      'a b',
      'flag',
    ]);
    expect(queryKeys('/p')).toEqual([]);
    expect(referrerHost('https://user:pw@Www.Example.com:8443/x?y')).toBe('www.example.com');
    expect(referrerHost('android-app://com.google.android.gm/')).toBe('com.google.android.gm');
    expect(referrerHost('not a url')).toBeNull();
  });

  it('anonymises client IPs: /24 and /48 networks, salted HMAC pseudonyms', () => {
    expect(clientPrefix('203.0.113.77')).toBe('203.0.113.0/24');
    expect(clientPrefix('2001:db8:85a3:1234::8a2e:370:7334')).toBe('2001:db8:85a3::/48');
    expect(clientPrefix('::ffff:198.51.100.23')).toBe('198.51.100.0/24');
    expect(clientPrefix('::1')).toBe('0:0:0::/48');
    expect(clientPrefix('not-an-ip')).toBeNull();
    const h = clientHash('203.0.113.77', SALT);
    expect(h).toMatch(/^[0-9a-f]{32}$/);
    expect(h).not.toContain('203');
    expect(clientHash('203.0.113.77', `${SALT}x`)).not.toBe(h);
    expect(clientHash('203.0.113.77', SALT)).toBe(h);
  });

  it('classifies user agents with the maintained parsers', () => {
    expect(classifyUserAgent(CHROME)).toEqual({
      family: 'Chrome',
      os: 'Windows',
      device: 'desktop',
      isBot: false,
    });
    expect(classifyUserAgent(IPHONE)).toMatchObject({
      family: 'Mobile Safari',
      device: 'mobile',
      isBot: false,
    });
    expect(classifyUserAgent('Googlebot/2.1 (+http://www.google.com/bot.html)')).toMatchObject({
      isBot: true,
      device: 'bot',
    });
    expect(classifyUserAgent(null)).toMatchObject({ family: 'Other', isBot: false });
  });

  it('gives record ids that repeat on replay and separate identical requests in one second', () => {
    const line = '203.0.113.9 - - [04/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"';
    const r = ok(line);
    const a = new RecordIds();
    const first = [a.next(line, r), a.next(line, r)];
    expect(first[0]).not.toBe(first[1]);
    const b = new RecordIds();
    expect([b.next(line, r), b.next(line, r)]).toEqual(first);
    expect(a.next('x', { ...r, request_id: 'req-1' })).toBe('r:req-1');
    expect(a.next('x', r, 'cwl-event-9')).toBe('d:cwl-event-9');
  });

  it('parses CLF timestamps exactly', () => {
    expect(parseClfTime('29/Feb/2024:23:59:59 +0100')).toBe(Date.parse('2024-02-29T22:59:59Z'));
    expect(parseClfTime('29/Feb/2023:23:59:59 +0100')).toBeNaN();
    expect(parseClfTime('1/Jan/2024:00:00:00 +0000')).toBeNaN();
  });
});

describe('access-log landing chunks', () => {
  it('groups consecutive whole days up to the row budget; a bigger day is a chunk of its own', () => {
    const counts = new Map([
      [20_003, 40],
      [20_000, 30],
      [20_001, 50],
      [20_002, 500],
    ]);
    expect(landingChunks(counts, 100)).toEqual([
      [20_000, 20_002],
      [20_002, 20_003],
      [20_003, 20_004],
    ]);
    expect(landingChunks(counts, 1_000)).toEqual([[20_000, 20_004]]);
    expect(landingChunks(new Map(), 100)).toEqual([]);
  });
});
