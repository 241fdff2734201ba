/**
 * `shoplake etl`: runs the batch ETL state machine (`step-functions/etl.asl.json`) locally —
 * landing → bronze, OLTP snapshot → bronze, silver, data-quality gate, gold, maintenance —
 * with the same SQL Athena runs. Without a date it processes every date (a full, idempotent
 * run); `--date D` processes [D - lookback, D] like the scheduled AWS run. `--stage <name>`
 * starts the deployed stage's ETL state machine with the same window and follows it.
 *
 * The OLTP and marketing sources: by default the embedded PGlite database of the state dir
 * (seeded by the demo); with `--oltp postgres://…` (or SHOPLAKE_OLTP_URL) a real PostgreSQL,
 * extracted by the Glue jobs' code (glue-jobs/) on local Spark (local/oltp/spark-extract.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { LAKE_PREFIXES } from '../../../infra/definitions/resources.ts';
import type { EtlRunInput } from '../../../lambdas/etl/prepare-run.ts';
import { deployedEtlInput, runDeployedStateMachine } from '../../deployed/run.ts';
import { lakeDirOf, openLocalEngine } from '../../engine/open.ts';
import { OltpDatabase, oltpDirOf } from '../../oltp/source.ts';
import { type ExtractSummary, glueExtractHook, LocalGlueJobs } from '../../oltp/spark-extract.ts';
import { withStateDirClaim } from '../../runtime/state-dir.ts';
import { EtlRunFailedError, type LocalEtlResult, runLocalEtl } from '../../sfn/etl-runner.ts';
import { isoDateArg } from '../args.ts';
import { fmt, reporter } from '../output.ts';
import { withProgressBar } from '../progress.ts';

export interface EtlCommandOptions {
  readonly date?: string;
  readonly from?: string;
  readonly to?: string;
  readonly lookback?: number;
  /** A PostgreSQL URL: extract it with the Glue job code on local Spark instead of PGlite. */
  readonly oltp?: string;
}

/** The execution input of a run with these options (the same locally and on AWS). */
export function etlRunInput(options: EtlCommandOptions): EtlRunInput {
  return options.from || options.to
    ? { ...(options.from ? { from: options.from } : {}), ...(options.to ? { to: options.to } : {}) }
    : options.date
      ? {
          date: options.date,
          ...(options.lookback !== undefined ? { lookbackDays: options.lookback } : {}),
        }
      : { full: true };
}

/** Runs the ETL on a state dir. */
export async function runEtlOnStateDir(
  stateDir: string,
  options: EtlCommandOptions,
  onProgress?: (message: string) => void,
  onTask?: (done: number, total: number, state: string) => void,
): Promise<LocalEtlResult> {
  const input = etlRunInput(options);
  const engine = await openLocalEngine(stateDir);
  if (options.oltp) {
    let jobs: LocalGlueJobs | undefined;
    try {
      onProgress?.('etl: starting local Spark for the Glue extract jobs (glue-jobs/)');
      jobs = await LocalGlueJobs.start(join(lakeDirOf(stateDir), LAKE_PREFIXES.warehouse));
      const url = options.oltp;
      const onSummary = (s: ExtractSummary) =>
        onProgress?.(
          `  glue ${s.source}: ${s.tables.map((t) => `${t.table} ${t.mode} +${t.rows_written}/-${t.rows_deleted}${t.duplicates ? ` dup ${t.duplicates}` : ''}${t.rejected ? ` rejected ${t.rejected}` : ''}`).join(', ')}`,
        );
      // One hook per Glue job state (ExtractOltp, ExtractMarketing), as on AWS.
      return await runLocalEtl({
        engine,
        lakeDir: lakeDirOf(stateDir),
        input,
        extractOltp: glueExtractHook(jobs, url, { sources: ['oltp'], onSummary }),
        extractMarketing: glueExtractHook(jobs, url, { sources: ['marketing'], onSummary }),
        ...(onProgress ? { onProgress } : {}),
      });
    } finally {
      await jobs?.close();
      await engine.close();
    }
  }
  const oltpDir = oltpDirOf(stateDir);
  const oltp = existsSync(oltpDir) ? await OltpDatabase.open(oltpDir) : undefined;
  try {
    return await runLocalEtl({
      engine,
      lakeDir: lakeDirOf(stateDir),
      input,
      // The embedded database holds both sources: one hook per Glue job state, as on AWS.
      ...(oltp
        ? {
            extractOltp: (e) => oltp.snapshotToBronze(e, new Date(), ['oltp']),
            extractMarketing: (e) => oltp.snapshotToBronze(e, new Date(), ['marketing']),
          }
        : {}),
      ...(onProgress ? { onProgress } : {}),
      ...(onTask ? { onTask } : {}),
    });
  } finally {
    await oltp?.close();
    await engine.close();
  }
}

function describe(r: LocalEtlResult): string {
  const lines = [
    `ETL ${r.run?.run_id ?? ''} ${r.status} in ${fmt(r.elapsedMs)} ms (window ${r.run?.date_from} .. ${r.run?.date_to})`,
    `  landing -> bronze: ${fmt(r.landing?.rows ?? 0)} events from ${r.landing?.files ?? 0} files, ${r.landing?.rejected ?? 0} rejected`,
  ];
  for (const [label, x] of [
    ['OLTP', r.oltp],
    ['marketing', r.marketing],
  ] as const)
    if (x)
      lines.push(
        `  ${label} snapshot ${x.snapshotAt}: ${Object.entries(x.tables)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
      );
  for (const s of r.steps.filter((x) => x.kind !== 'ddl' && x.kind !== 'select')) {
    lines.push(`  ${s.state.padEnd(26)} ${String(s.affectedRows ?? 0).padStart(9)} rows  ${s.ms} ms`);
  }
  if (r.failedChecks.length > 0)
    lines.push(`  failed checks: ${r.failedChecks.map((c) => c.check_name).join(', ')}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('etl')
    .description('run the batch ETL (bronze -> silver -> quality gate -> gold) on the local lake')
    .option(
      '--date <YYYY-MM-DD>',
      'run date: process [date - lookback, date] (default: every date)',
      isoDateArg('--date'),
    )
    .option('--lookback <days>', 'days before --date to re-read for late events', (v) => Number(v))
    .option('--from <YYYY-MM-DD>', 'explicit window start', isoDateArg('--from'))
    .option('--to <YYYY-MM-DD>', 'explicit window end', isoDateArg('--to'))
    .option(
      '--oltp <postgres-url>',
      'extract a real PostgreSQL (postgres://user:pass@host:port/db; tables public.* and marketing.*) with the Glue job code on local Spark (default: SHOPLAKE_OLTP_URL, else the embedded PGlite)',
      (v: string) => {
        if (!/^postgres(ql)?:\/\/[^/]+\/[^/?]+/.test(v))
          throw new InvalidArgumentError('expected postgres://user:password@host:port/dbname');
        return v;
      },
    )
    .option('--json', 'print the run summary as JSON on stdout')
    .option('--quiet', 'no progress on stderr')
    .option(
      '--stage <name>',
      "start the deployed stage's ETL state machine and follow it (AWS credentials from the environment)",
    )
    .action(
      async (opts: EtlCommandOptions & { json?: boolean; quiet?: boolean; stage?: string }, cmd: Command) => {
        const { stateDir } = cmd.optsWithGlobals<{ stateDir: string }>();
        const report = reporter({ json: opts.json, quiet: opts.quiet });
        if (opts.stage) {
          await runDeployedStateMachine(
            opts.stage,
            'etlStateMachine',
            deployedEtlInput(opts.stage, { ...etlRunInput(opts) }),
            report,
            { json: Boolean(opts.json) },
          );
          return;
        }
        // A bar of task states on a terminal (step lines print above it); plain lines otherwise.
        const { report: steps, bar } = withProgressBar(report, { label: 'etl', unit: 'tasks', ...opts });
        try {
          // One run at a time: a second `etl` (or `serve`/`ingest`) on this state dir is refused.
          const result = await withStateDirClaim(stateDir, 'etl', () =>
            runEtlOnStateDir(
              stateDir,
              {
                ...opts,
                ...(opts.oltp || process.env.SHOPLAKE_OLTP_URL
                  ? { oltp: opts.oltp ?? process.env.SHOPLAKE_OLTP_URL }
                  : {}),
              },
              (m) => steps.progress(m),
              bar ? (done, total, state) => bar.update(done, total, state) : undefined,
            ),
          ).finally(() => bar?.stop());
          report.result(result, () => describe(result));
        } catch (error: unknown) {
          // With --json the error document (main.ts) carries the run's failure details.
          if (error instanceof EtlRunFailedError && !opts.json) {
            report.result(error.result, () => describe(error.result));
          }
          throw error;
        }
      },
    );
}
