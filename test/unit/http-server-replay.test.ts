/**
 * `sendThroughIngest` (local/runtime/replay.ts): how the CLI plays the API client — request
 * sizing, per-event answers, whole-request refusals and re-sends of `failed` events — tested
 * against scripted ingest handlers (no network).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../lambdas/shared/event-schema.ts';
import { IngestAccountingError, sendThroughIngest } from '../../local/runtime/replay.ts';

type Answer = (events: unknown[], event: APIGatewayProxyEvent) => APIGatewayProxyResult;

function scripted(answer: Answer) {
  const requests: unknown[][] = [];
  const handler = async (event: APIGatewayProxyEvent) => {
    const body = JSON.parse(event.body ?? '{}') as { events: unknown[] };
    requests.push(body.events);
    return answer(body.events, event);
  };
  return { handler, requests };
}

const ok = (events: unknown[]): APIGatewayProxyResult => ({
  statusCode: 200,
  body: JSON.stringify({
    accepted: events.length,
    rejected: 0,
    failed: 0,
    results: events.map((_, index) => ({ index, status: 'accepted' })),
  }),
});

describe('sendThroughIngest', () => {
  it('sends API Gateway-shaped POST /events requests of at most 500 events', async () => {
    const { handler, requests } = scripted((events, event) => {
      expect(event.httpMethod).toBe('POST');
      expect(event.resource).toBe('/events');
      expect(event.requestContext.requestId).toMatch(/[0-9a-f-]{36}/);
      return ok(events);
    });
    const tally = await sendThroughIngest(
      Array.from({ length: 1_234 }, (_, i) => ({ event_id: `e${i}` })),
      { ingest: handler },
    );
    expect(requests.map((r) => r.length)).toEqual([500, 500, 234]);
    expect(tally).toMatchObject({ received: 1_234, accepted: 1_234, rejected: 0, requests: 3 });
  });

  it('keeps every request body under the 1 MB limit', async () => {
    const { handler, requests } = scripted(ok);
    const big = 'x'.repeat(300_000);
    await sendThroughIngest(
      Array.from({ length: 7 }, (_, i) => ({ event_id: `e${i}`, text: big })),
      { ingest: handler },
    );
    for (const r of requests)
      expect(Buffer.byteLength(JSON.stringify({ events: r }))).toBeLessThanOrEqual(LIMITS.maxRequestBytes);
    expect(requests.flat()).toHaveLength(7);
  });

  it('counts per-event rejections by reason and reports each outcome by input index', async () => {
    const { handler } = scripted((events) => ({
      statusCode: 200,
      body: JSON.stringify({
        results: events.map((e, index) =>
          typeof e === 'string'
            ? { index, status: 'rejected', reason: 'invalid_json' }
            : { index, status: 'accepted' },
        ),
      }),
    }));
    const outcomes: [number, string][] = [];
    const tally = await sendThroughIngest([{ a: 1 }, '{broken', { b: 2 }, 'also broken'], {
      ingest: handler,
      onResult: (index, status) => outcomes.push([index, status]),
    });
    expect(tally.rejected_by_reason).toEqual({ invalid_json: 2 });
    expect(outcomes).toEqual([
      [0, 'accepted'],
      [1, 'rejected'],
      [2, 'accepted'],
      [3, 'rejected'],
    ]);
  });

  it('counts a refused request (400 envelope error) as one rejection per event', async () => {
    const { handler } = scripted(() => ({
      statusCode: 400,
      body: JSON.stringify({ error: 'request_too_large', message: 'too large' }),
    }));
    const tally = await sendThroughIngest([{ a: 1 }, { b: 2 }], { ingest: handler });
    expect(tally).toMatchObject({ accepted: 0, rejected: 2, rejected_by_reason: { request_too_large: 2 } });
  });

  it('re-sends events the stream refused (failed) and gives up loudly after the limit', async () => {
    let attempt = 0;
    const flaky = scripted((events) => {
      attempt += 1;
      return {
        statusCode: 200,
        body: JSON.stringify({
          results: events.map((_, index) =>
            attempt === 1 && index % 2 === 0
              ? { index, status: 'failed', reason: 'stream_unavailable' }
              : { index, status: 'accepted' },
          ),
        }),
      };
    });
    const tally = await sendThroughIngest([{ a: 0 }, { a: 1 }, { a: 2 }, { a: 3 }], {
      ingest: flaky.handler,
    });
    expect(tally).toMatchObject({ accepted: 4, rejected: 0, resent: 2 });
    expect(flaky.requests.map((r) => r.length)).toEqual([4, 2]);

    const down = scripted((events) => ({
      statusCode: 503,
      body: JSON.stringify({ results: events.map((_, index) => ({ index, status: 'failed' })) }),
    }));
    await expect(sendThroughIngest([{ a: 0 }], { ingest: down.handler, maxResends: 1 })).rejects.toThrow(
      IngestAccountingError,
    );
  });

  it('refuses answers that do not account for every event', async () => {
    const { handler } = scripted(() => ({ statusCode: 200, body: JSON.stringify({ results: [] }) }));
    await expect(sendThroughIngest([{ a: 1 }], { ingest: handler })).rejects.toThrow(/one result per event/);
  });
});
