/**
 * The Glue jobs' code (glue-jobs/, package shoplake_glue) on local Spark against a real
 * PostgreSQL: the ETL's extract step with `shoplake etl --oltp postgres://…` and the Spark
 * integration tests. One long-lived `glue-jobs/local_run.py --serve` process (one Spark
 * session, ~25 s to start) runs every extract request; results come back as JSON lines.
 *
 * Spark, the Iceberg runtime and JDBC jars and the PostgreSQL server binaries come from
 * `scripts/setup-spark-pg.sh` (idempotent, cached under ~/.cache/shoplake/spark).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  BRONZE_MARKETING_DEALS,
  BRONZE_MARKETING_LEADS,
  BRONZE_OLTP_CUSTOMERS,
  BRONZE_OLTP_ORDER_LINES,
  BRONZE_OLTP_ORDERS,
  BRONZE_OLTP_PAYMENTS,
  BRONZE_OLTP_PRODUCTS,
  BRONZE_OLTP_REVIEWS,
  OPS_EXTRACT_REJECTS,
  OPS_EXTRACT_WATERMARKS,
  qualifiedName,
} from '../../lambdas/shared/catalog/index.ts';
import type { DuckdbEngine } from '../engine/duckdb.ts';
import type { OltpExtractResult } from '../sfn/etl-runner.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface SparkToolchain {
  readonly python: string;
  readonly jars: string;
  readonly pgBin: string;
}

export class SparkToolchainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SparkToolchainError';
  }
}

/** Installs (first time) and locates pyspark, the jars and PostgreSQL: scripts/setup-spark-pg.sh. */
export function sparkToolchain(): SparkToolchain {
  let out: string;
  try {
    out = execFileSync('bash', [join(ROOT, 'scripts/setup-spark-pg.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 900_000,
    });
  } catch (error: unknown) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new SparkToolchainError(
      `scripts/setup-spark-pg.sh failed: cannot install/locate pyspark, the Iceberg/JDBC jars or PostgreSQL:\n${stderr.slice(-2000)}`,
    );
  }
  const vars = Object.fromEntries(
    out
      .split('\n')
      .map((l) => l.split('='))
      .filter((p) => p.length >= 2)
      .map(([k, ...v]) => [k, v.join('=')]),
  );
  const python = vars.SHOPLAKE_SPARK_PYTHON;
  const jars = vars.SHOPLAKE_SPARK_JARS;
  const pgBin = vars.SHOPLAKE_PG_BIN;
  if (!python || !jars || !pgBin) throw new SparkToolchainError(`setup-spark-pg.sh printed no paths: ${out}`);
  return { python, jars, pgBin };
}

export interface ExtractTableSummary {
  readonly table: string;
  readonly bronze: string;
  readonly mode: 'full' | 'incremental';
  readonly reason: string;
  readonly rows_read: number;
  readonly rows_written: number;
  readonly rows_deleted: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly added_columns: string[];
  readonly watermark: string | null;
}

export interface ExtractSummary {
  readonly source: 'oltp' | 'marketing';
  readonly run_id: string;
  readonly snapshot_at: string;
  readonly tables: ExtractTableSummary[];
}

export interface ExtractRequest {
  readonly source: 'oltp' | 'marketing';
  readonly pgUrl: string;
  readonly mode?: 'incremental' | 'full';
  readonly runId?: string;
  readonly snapshotAt?: Date;
  readonly tables?: readonly string[];
}

/** The job failed (schema drift, source unreachable, …): nothing of that source was committed
 * when `error` is SchemaDriftError. */
export class GlueJobError extends Error {
  constructor(
    readonly error: string,
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
    this.name = 'GlueJobError';
  }
}

/** A running `local_run.py --serve`: one Spark session for many extract runs. */
export class LocalGlueJobs {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly lines: AsyncIterator<string>;
  private stderrTail = '';

  private constructor(
    private readonly proc: ChildProcess,
    rl: Interface,
  ) {
    this.lines = rl[Symbol.asyncIterator]();
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-8000);
    });
  }

  /** Process id of the local_run.py process (Spark's JVM is its child). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Starts Spark on the warehouse (`<lake>/warehouse`). */
  static async start(
    warehouseDir: string,
    toolchain: SparkToolchain = sparkToolchain(),
  ): Promise<LocalGlueJobs> {
    const proc = spawn(
      toolchain.python,
      [join(ROOT, 'glue-jobs/local_run.py'), '--serve', '--warehouse', resolve(warehouseDir)],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          SHOPLAKE_SPARK_JARS: toolchain.jars,
          SPARK_LOCAL_IP: '127.0.0.1',
          PYSPARK_PYTHON: toolchain.python,
        },
      },
    );
    if (!proc.stdout) throw new Error('no stdout');
    const jobs = new LocalGlueJobs(proc, createInterface({ input: proc.stdout }));
    const first = await jobs.lines.next();
    if (first.done || !String(first.value).includes('"ready"')) {
      throw new GlueJobError('SparkStartFailed', `local Spark did not start:\n${jobs.stderrTail}`);
    }
    return jobs;
  }

  /** Runs one extract (one source); rejects with GlueJobError when the job fails. */
  run(req: ExtractRequest): Promise<ExtractSummary> {
    const next = this.queue.then(async () => {
      const line = JSON.stringify({
        source: req.source,
        pg_url: req.pgUrl,
        mode: req.mode ?? 'incremental',
        run_id: req.runId ?? 'manual',
        ...(req.snapshotAt ? { snapshot_at: req.snapshotAt.toISOString() } : {}),
        ...(req.tables ? { tables: req.tables } : {}),
      });
      this.proc.stdin?.write(`${line}\n`);
      const reply = await this.lines.next();
      if (reply.done) throw new GlueJobError('SparkExited', `local Spark exited:\n${this.stderrTail}`);
      const r = JSON.parse(String(reply.value)) as {
        ok: boolean;
        summary?: ExtractSummary;
        error?: string;
        message?: string;
        problems?: string[];
      };
      if (!r.ok || !r.summary) {
        throw new GlueJobError(r.error ?? 'Error', `${req.source} extract failed: ${r.message}`, r.problems);
      }
      return r.summary;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.proc.stdin?.end();
    await new Promise<void>((done) => {
      if (this.proc.exitCode !== null) return done();
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
      this.proc.once('exit', () => {
        clearTimeout(t);
        done();
      });
    });
  }
}

const BRONZE_OF: Record<'oltp' | 'marketing', string[]> = {
  oltp: [
    BRONZE_OLTP_CUSTOMERS,
    BRONZE_OLTP_PRODUCTS,
    BRONZE_OLTP_ORDERS,
    BRONZE_OLTP_ORDER_LINES,
    BRONZE_OLTP_REVIEWS,
    BRONZE_OLTP_PAYMENTS,
  ].map(qualifiedName),
  marketing: [BRONZE_MARKETING_LEADS, BRONZE_MARKETING_DEALS].map(qualifiedName),
};

/**
 * The ETL runner's extract hook on the Glue job code: both sources, then the engine re-reads
 * the tables Spark committed to. Returns rows written per bronze table (delete markers included).
 */
export function glueExtractHook(
  jobs: LocalGlueJobs,
  pgUrl: string,
  opts: {
    sources?: readonly ('oltp' | 'marketing')[];
    snapshotAt?: () => Date;
    mode?: 'incremental' | 'full';
    onSummary?: (s: ExtractSummary) => void;
  } = {},
): (engine: DuckdbEngine, runId: string) => Promise<OltpExtractResult> {
  return async (engine, runId) => {
    const at = opts.snapshotAt?.() ?? new Date();
    const tables: Record<string, number> = {};
    for (const source of opts.sources ?? (['oltp', 'marketing'] as const)) {
      const summary = await jobs.run({
        source,
        pgUrl,
        runId,
        snapshotAt: at,
        ...(opts.mode ? { mode: opts.mode } : {}),
      });
      opts.onSummary?.(summary);
      for (const t of summary.tables) tables[`bronze.${t.bronze}`] = t.rows_written + t.rows_deleted;
      for (const ident of BRONZE_OF[source]) await engine.table(ident);
    }
    await engine.table(qualifiedName(OPS_EXTRACT_WATERMARKS));
    await engine.table(qualifiedName(OPS_EXTRACT_REJECTS));
    return { snapshotAt: at.toISOString(), tables };
  };
}
