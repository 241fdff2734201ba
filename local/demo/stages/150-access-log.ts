/**
 * Demo stage 150: the shop's web-server access log. Generates the log its server would have
 * written for the demo's clickstream (one page request per page-level event, plus crawlers,
 * 404s and a few 5xx; `local/generator/access-log.ts`), writes it as an nginx log with
 * `$request_time` (gzip'd, as logrotate leaves it) and shoplake's API Gateway JSON log, and
 * ingests both with `shoplake ingest --format access-log`'s code into bronze.access_logs, so
 * the ETL stage takes them to silver and gold (and reconciles product pages with events).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { FileObjectStore } from '../../../lambdas/shared/object-store.ts';
import {
  type AccessLogIngestSummary,
  ingestAccessLogFile,
  localAccessLogSalt,
} from '../../access-log/ingest.ts';
import { fmt } from '../../cli/output.ts';
import { lakeDirOf, openLocalEngine } from '../../engine/open.ts';
import { accessLogForEvents, formatRequest } from '../../generator/access-log.ts';
import { generateShop } from '../../generator/shop.ts';
import type { DemoContext, DemoStage } from '../types.ts';
import type { IngestStageResult } from './100-ingest.ts';

export interface AccessLogStageResult {
  readonly files: readonly AccessLogIngestSummary[];
  readonly received: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: number;
}

export const stage: DemoStage = {
  name: 'access_logs',
  order: 150,
  async run(ctx: DemoContext): Promise<AccessLogStageResult> {
    const { runtime, report } = ctx;
    const ingest = ctx.results.ingest as IngestStageResult | undefined;
    if (!ingest) throw new Error('the access-log stage needs the ingest stage result (the demo shop)');
    const shop = generateShop(ingest.shop);
    const requests = accessLogForEvents(shop.events(), { seed: ingest.shop.seed });
    const dir = join(runtime.stateDir, 'demo');
    mkdirSync(dir, { recursive: true });
    // The web shop's nginx log (most traffic) and the API's own JSON log (every 10th request).
    const nginx = requests.filter((_, i) => i % 10 !== 0).map((r, i) => formatRequest(r, 'nginx', i));
    const api = requests.filter((_, i) => i % 10 === 0).map((r, i) => formatRequest(r, 'apigw', i));
    const nginxFile = join(dir, 'access.log.gz');
    const apiFile = join(dir, 'api-access.log');
    writeFileSync(nginxFile, gzipSync(`${nginx.join('\n')}\n`));
    writeFileSync(apiFile, `${api.join('\n')}\n`);
    report.progress(`access logs: ${fmt(requests.length)} requests generated for the demo's clickstream`);
    const lakeDir = lakeDirOf(runtime.stateDir);
    const engine = await openLocalEngine(runtime.stateDir);
    try {
      const common = {
        salt: localAccessLogSalt(runtime.stateDir),
        quarantine: new FileObjectStore(pathToFileURL(`${lakeDir}/`).href),
      };
      const files = [
        await ingestAccessLogFile(engine, lakeDir, nginxFile, { ...common, format: 'nginx' }),
        await ingestAccessLogFile(engine, lakeDir, apiFile, { ...common, format: 'apigw' }),
      ];
      const sum = (k: 'received' | 'accepted' | 'duplicates' | 'rejected') =>
        files.reduce((a, f) => a + f[k], 0);
      return {
        files,
        received: sum('received'),
        accepted: sum('accepted'),
        duplicates: sum('duplicates'),
        rejected: sum('rejected'),
      };
    } finally {
      await engine.close();
    }
  },
  describe(result: unknown): string[] {
    const r = result as AccessLogStageResult;
    return [
      `access logs: ${fmt(r.received)} lines received → ${fmt(r.accepted)} accepted, ${fmt(r.duplicates)} duplicates, ${fmt(r.rejected)} rejected (nginx + API Gateway JSON → bronze.access_logs)`,
    ];
  },
};
