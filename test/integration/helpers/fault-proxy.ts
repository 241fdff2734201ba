/**
 * An HTTP proxy in front of a DynamoDB or Kinesis endpoint that injects the failures AWS really
 * produces, at the wire level, so the SDK's own retry logic and the handlers' error paths run
 * exactly as they would against the service:
 *  - DynamoDB writes (PutItem, UpdateItem, DeleteItem, BatchWriteItem): throttling
 *    (400 ProvisionedThroughputExceededException, not applied) or 500 InternalServerError —
 *    either before forwarding (not applied) or after forwarding (applied, answer lost: the
 *    nastiest case, a retried write that already happened);
 *  - Kinesis PutRecords: partial failures — a share of the records is answered with
 *    `ProvisionedThroughputExceededException` and not written, the rest is forwarded.
 * Choices come from a seeded PRNG, so a failing run can be reproduced.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Rng } from '../../../local/generator/random.ts';

export interface FaultProxyOptions {
  /** Endpoint to forward to; a function when it is only known later (emulator ports). */
  readonly target: string | (() => string);
  readonly seed: number;
  /** Share of DynamoDB write requests that fail. */
  readonly dynamoWriteFailureRate?: number;
  /** Of the failing DynamoDB writes, the share that is applied before the 500 is returned. */
  readonly dynamoFailAfterApplyShare?: number;
  /** Share of the records of each Kinesis PutRecords call that fail. */
  readonly putRecordsFailureRate?: number;
}

export interface FaultProxyStats {
  forwarded: number;
  throttled: number;
  serverErrorsBeforeApply: number;
  serverErrorsAfterApply: number;
  putRecordsCalls: number;
  putRecordsFailedRecords: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly stats: FaultProxyStats;
  close(): Promise<void>;
}

const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

function forward(
  target: URL,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        hostname: target.hostname,
        port: target.port,
        method,
        path,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function amzJson(status: number, type: string, message: string) {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `fault-${Date.now()}` },
    body: Buffer.from(JSON.stringify({ __type: type, message })),
  };
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const targetOf = () => new URL(typeof options.target === 'string' ? options.target : options.target());
  const rng = new Rng(options.seed);
  const stats: FaultProxyStats = {
    forwarded: 0,
    throttled: 0,
    serverErrorsBeforeApply: 0,
    serverErrorsAfterApply: 0,
    putRecordsCalls: 0,
    putRecordsFailedRecords: 0,
  };

  const handle = async (method: string, path: string, headers: IncomingHttpHeaders, body: Buffer) => {
    const target = targetOf();
    const amzTarget = String(headers['x-amz-target'] ?? '');
    const operation = amzTarget.split('.').pop() ?? '';
    if (amzTarget.startsWith('DynamoDB_') && DYNAMO_WRITES.has(operation)) {
      if (rng.chance(options.dynamoWriteFailureRate ?? 0)) {
        if (rng.chance(options.dynamoFailAfterApplyShare ?? 0)) {
          await forward(target, method, path, headers, body);
          stats.serverErrorsAfterApply += 1;
          return amzJson(
            500,
            'com.amazonaws.dynamodb.v20120810#InternalServerError',
            'injected: applied, answer lost',
          );
        }
        if (rng.chance(0.5)) {
          stats.throttled += 1;
          return amzJson(
            400,
            'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
            'injected: throughput exceeded',
          );
        }
        stats.serverErrorsBeforeApply += 1;
        return amzJson(
          500,
          'com.amazonaws.dynamodb.v20120810#InternalServerError',
          'injected: internal error',
        );
      }
    }
    if (amzTarget === 'Kinesis_20131202.PutRecords' && (options.putRecordsFailureRate ?? 0) > 0) {
      stats.putRecordsCalls += 1;
      const request = JSON.parse(body.toString('utf8')) as {
        StreamName?: string;
        StreamARN?: string;
        Records: unknown[];
      };
      const fails = request.Records.map(() => rng.chance(options.putRecordsFailureRate ?? 0));
      const kept = request.Records.filter((_, i) => !fails[i]);
      let keptResults: unknown[] = [];
      if (kept.length > 0) {
        const res = await forward(
          target,
          method,
          path,
          headers,
          Buffer.from(JSON.stringify({ ...request, Records: kept })),
        );
        stats.forwarded += 1;
        if (res.status !== 200) return res;
        keptResults = (JSON.parse(res.body.toString('utf8')) as { Records: unknown[] }).Records;
      }
      let k = 0;
      const records = fails.map((failed) => {
        if (failed) {
          stats.putRecordsFailedRecords += 1;
          return {
            ErrorCode: 'ProvisionedThroughputExceededException',
            ErrorMessage: 'injected: rate exceeded for shard',
          };
        }
        const r = keptResults[k];
        k += 1;
        return r;
      });
      const failedCount = fails.filter(Boolean).length;
      return {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: Buffer.from(
          JSON.stringify({ FailedRecordCount: failedCount, Records: records, EncryptionType: 'NONE' }),
        ),
      };
    }
    stats.forwarded += 1;
    return forward(target, method, path, headers, body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req.method ?? 'POST', req.url ?? '/', req.headers, Buffer.concat(chunks)).then(
        (out) => {
          const headers: Record<string, string | string[] | undefined> = { ...out.headers };
          delete headers['content-length'];
          delete headers['transfer-encoding'];
          res.writeHead(out.status, { ...headers, 'content-length': String(out.body.length) });
          res.end(out.body);
        },
        (error: unknown) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(error instanceof Error ? error.message : String(error));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
