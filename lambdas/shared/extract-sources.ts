/**
 * The shop's batch sources read by the Glue extract jobs (`glue-jobs/extract_job.py`), as one
 * contract shared by the stage configuration and CDK (`infra/`), the ETL state machine's
 * generator and PrepareRun (`lambdas/etl/`), and the local ASL runner (`local/sfn/`): the source
 * names, the flags PrepareRun returns (`$.run.sources.<source>`), the job-name substitution keys
 * and the job argument names both sides of the job use.
 */

/** Sources a stage may have: the shop's OLTP PostgreSQL and its marketing database. */
export const EXTRACT_SOURCES = ['oltp', 'marketing'] as const;
export type ExtractSource = (typeof EXTRACT_SOURCES)[number];

/** Which sources the stage has; a source without a flag set has no job and its step is skipped. */
export type SourceFlags = Readonly<Record<ExtractSource, boolean>>;

/** A stage (or local run) without batch sources. */
export const NO_SOURCES: SourceFlags = { oltp: false, marketing: false };

/** Environment variable of the PrepareRun Lambda: the stage's source flags as JSON. */
export const ETL_SOURCES_ENV = 'ETL_SOURCES';

/** Definition substitution holding each source's Glue job name. */
export const EXTRACT_JOB_NAME_KEYS: Readonly<Record<ExtractSource, string>> = {
  oltp: 'OltpExtractJobName',
  marketing: 'MarketingExtractJobName',
};

/** State name of each source's extract step in the ETL state machine. */
export const EXTRACT_STATE_NAMES: Readonly<Record<ExtractSource, string>> = {
  oltp: 'ExtractOltp',
  marketing: 'ExtractMarketing',
};

/**
 * Argument names of the extract job (GLUE-CONTRACT.md). `--mode` of the contract is one of
 * the four argument names AWS Glue reserves for itself (`--debug`, `--mode`, `--JOB_NAME`,
 * `--endpoint`: "do not set"; CDK refuses it at synthesis), so the extract mode travels as
 * `--extract_mode`.
 */
export const GLUE_JOB_ARGS = {
  source: '--source',
  secretId: '--secret_id',
  catalogName: '--catalog_name',
  bronzeDatabase: '--bronze_database',
  opsDatabase: '--ops_database',
  warehouse: '--warehouse',
  extractMode: '--extract_mode',
  runId: '--run_id',
} as const;

/** Spark catalog name under which the jobs see the Glue Data Catalog. @default 'glue_catalog' */
export const DEFAULT_SPARK_CATALOG = 'glue_catalog';

/** Extract mode of the scheduled ETL's job runs (the job falls back to a full snapshot when it has no watermark). */
export const DEFAULT_EXTRACT_MODE = 'incremental';

export class InvalidSourceFlagsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSourceFlagsError';
  }
}

/** The flags of a list of configured sources. */
export function sourceFlags(sources: Iterable<ExtractSource>): SourceFlags {
  const set = new Set(sources);
  return { oltp: set.has('oltp'), marketing: set.has('marketing') };
}

/** The env value CDK sets (`{"oltp":true,"marketing":false}`). */
export function formatSourceFlags(flags: SourceFlags): string {
  return JSON.stringify({ oltp: flags.oltp, marketing: flags.marketing });
}

/** Parses the env value; throws `InvalidSourceFlagsError` naming what is wrong. */
export function parseSourceFlags(text: string): SourceFlags {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidSourceFlagsError(`${ETL_SOURCES_ENV} is not JSON: ${text.slice(0, 80)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InvalidSourceFlagsError(`${ETL_SOURCES_ENV} must be an object of booleans`);
  const o = parsed as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(EXTRACT_SOURCES as readonly string[]).includes(key))
      throw new InvalidSourceFlagsError(
        `${ETL_SOURCES_ENV}: unknown source ${key} (known: ${EXTRACT_SOURCES.join(', ')})`,
      );
  }
  const flag = (key: ExtractSource): boolean => {
    const v = o[key];
    if (v === undefined) return false;
    if (typeof v !== 'boolean')
      throw new InvalidSourceFlagsError(`${ETL_SOURCES_ENV}.${key} must be a boolean`);
    return v;
  };
  return { oltp: flag('oltp'), marketing: flag('marketing') };
}
