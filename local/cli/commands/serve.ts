/**
 * `shoplake serve`: the local API (the routes of `lambdas/shared/api-routes.ts`) in front of the
 * real handler modules, on the local runtime, until Ctrl-C. Events posted to `/events` flow
 * through Kinesis to the stream consumer like on AWS.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { API_ROUTES } from '../../../lambdas/shared/api-routes.ts';
import { CORS_ENV, parseCorsOrigins } from '../../../lambdas/shared/cors.ts';
import { analyticsPages, DASHBOARD_PATH, localHandlerLoader } from '../../analytics/local-server.ts';
import { openLocalEngine } from '../../engine/open.ts';
import { startHttpServer } from '../../runtime/http-server.ts';
import { withRuntime } from '../../runtime/session.ts';
import { reporter } from '../output.ts';
import { DEFAULT_API_PORT, positiveInt } from './demo.ts';

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the local API (ingest, recommendations, trending, analytics) and the web dashboard')
    .option('--port <port>', 'port to listen on (0 = any free port)', positiveInt('--port'), DEFAULT_API_PORT)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--quiet', 'no request log on stderr')
    .option(
      '--cors-origin <origin>',
      'allow browser calls from this origin (repeatable; scheme://host[:port], or * for any; never with credentials)',
      (value: string, previous: string[] = []) => {
        try {
          return [...previous, ...parseCorsOrigins(value)];
        } catch (error) {
          throw new InvalidArgumentError((error as Error).message);
        }
      },
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{
        port: number;
        host: string;
        quiet?: boolean;
        stateDir: string;
        corsOrigin?: string[];
      }>();
      const corsOrigins = parseCorsOrigins(opts.corsOrigin ?? []);
      const report = reporter({ quiet: opts.quiet });
      await withRuntime({ stateDir: opts.stateDir, report }, async (session) => {
        // The handler modules read their environment at import: set it first.
        session.runtime.applyEnv();
        if (corsOrigins.length > 0) process.env[CORS_ENV] = corsOrigins.join(',');
        const engine = await openLocalEngine(session.runtime.stateDir);
        try {
          const server = await startHttpServer({
            port: opts.port,
            host: opts.host,
            log: (m) => report.progress(m),
            loadHandler: localHandlerLoader(engine),
            pages: analyticsPages(),
            corsOrigins,
          });
          process.stderr.write(`local API on ${server.url} — Ctrl-C to stop\n`);
          for (const r of API_ROUTES)
            process.stderr.write(`  ${r.method.padEnd(4)} ${r.path}  ${r.description}\n`);
          process.stderr.write(
            `dashboard: ${server.url}${DASHBOARD_PATH}  ·  OpenAPI: ${server.url}/openapi.json\n`,
          );
          await session.untilSignal();
          await server.close();
        } finally {
          await engine.close();
        }
      });
    });
}
