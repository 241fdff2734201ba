/** Opt-in CORS (lambdas/shared/cors.ts): origin lists, response and preflight headers, withCors. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CORS_ENV,
  corsHeaders,
  parseCorsOrigins,
  preflightHeaders,
  withCors,
} from '../../lambdas/shared/cors.ts';
import { startHttpServer } from '../../local/runtime/http-server.ts';

afterEach(() => {
  delete process.env[CORS_ENV];
});

describe('cors', () => {
  it('accepts origins and *, refuses paths, wildcards in lists and junk', () => {
    expect(parseCorsOrigins('https://shop.example, http://localhost:3000')).toEqual([
      'https://shop.example',
      'http://localhost:3000',
    ]);
    expect(parseCorsOrigins(['*'])).toEqual(['*']);
    expect(parseCorsOrigins(undefined)).toEqual([]);
    expect(() => parseCorsOrigins('https://shop.example/')).toThrow(/invalid CORS origin/);
    expect(() => parseCorsOrigins('*,https://a.example')).toThrow(/cannot be combined/);
    expect(() => parseCorsOrigins('shop.example')).toThrow(/scheme/);
  });

  it('echoes an allowed origin, never allows credentials, and says nothing to other origins', () => {
    const origins = ['https://shop.example'];
    expect(corsHeaders(origins, 'https://shop.example')).toEqual({
      'access-control-allow-origin': 'https://shop.example',
      vary: 'Origin',
    });
    expect(corsHeaders(origins, 'https://evil.example')).toEqual({ vary: 'Origin' });
    expect(corsHeaders(['*'], 'https://any.example')).toEqual({ 'access-control-allow-origin': '*' });
    const pre = preflightHeaders(origins, 'https://shop.example', ['POST']);
    expect(pre).toMatchObject({
      'access-control-allow-methods': 'POST,OPTIONS',
      'access-control-allow-headers': 'content-type,x-api-key',
    });
    expect(JSON.stringify(pre)).not.toMatch(/credentials/i);
    expect(preflightHeaders(origins, 'https://evil.example', ['POST'])).toBeUndefined();
  });

  it('withCors adds headers from CORS_ALLOWED_ORIGINS only when configured', async () => {
    const handler = withCors(async () => ({ statusCode: 200, body: '{}', headers: { 'content-type': 'x' } }));
    const event = { headers: { Origin: 'https://shop.example' } } as unknown as APIGatewayProxyEvent;
    expect((await handler(event)).headers).toEqual({ 'content-type': 'x' });
    process.env[CORS_ENV] = 'https://shop.example';
    expect((await handler(event)).headers).toMatchObject({
      'content-type': 'x',
      'access-control-allow-origin': 'https://shop.example',
    });
  });

  it('the local server answers preflights for allowed origins and routes only', async () => {
    const server = await startHttpServer({
      corsOrigins: ['https://shop.example'],
      loadHandler: async () => undefined,
    });
    try {
      const ask = (path: string, origin: string) =>
        fetch(`${server.url}${path}`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
      const ok = await ask('/events', 'https://shop.example');
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
      expect((await ask('/events', 'https://evil.example')).status).toBe(403);
      expect((await ask('/nope', 'https://shop.example')).status).toBe(403);
    } finally {
      await server.close();
    }
  });
});
