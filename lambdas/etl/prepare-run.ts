/**
 * First task of the ETL state machine: turns the execution input into the run context every
 * later task uses — the run id, the date window of bronze to process, the same values as
 * Athena execution-parameter literals, and the tables to maintain. A plain function (clock and
 * database prefix passed in) so the local runner and the Lambda run the same code.
 */

import { databaseName, qualifiedName, TABLES } from '../shared/catalog/index.ts';
import { athenaLiteral } from '../shared/catalog/sql.ts';
import { NO_SOURCES, type SourceFlags } from '../shared/extract-sources.ts';

/** Days of bronze a scheduled run (no date given) re-reads, for late events. @default 3 */
export const DEFAULT_LOOKBACK_DAYS = 3;
/** The window of a full run (`{ full: true }`): everything. */
export const FULL_WINDOW = { from: '1970-01-01', to: '9999-12-31' } as const;

export interface EtlRunInput {
  /** Run date (YYYY-MM-DD): processes [date - lookbackDays, date]. @default today (UTC) */
  readonly date?: string;
  /** Explicit window (inclusive); overrides `date`. */
  readonly from?: string;
  readonly to?: string;
  /** Reprocess every date. */
  readonly full?: boolean;
  readonly lookbackDays?: number;
  /** Execution name (Step Functions `$$.Execution.Name`), used as run id when given. */
  readonly executionName?: string;
}

export interface EtlRunContext {
  readonly run_id: string;
  readonly run_date: string;
  readonly date_from: string;
  readonly date_to: string;
  /** The same values as Athena execution-parameter literals (`'2026-11-21'`). */
  readonly sql: { readonly run_id: string; readonly date_from: string; readonly date_to: string };
  /** Physical names of the bronze/silver/gold tables compacted and vacuumed after gold. */
  readonly maintenance_tables: string[];
  /** The run lease's item values (AWS: the AcquireLease conditional put). */
  readonly lease: EtlLease;
  /**
   * Which batch sources the stage has (AWS: the `ETL_SOURCES` env var CDK sets from the stage
   * config); the state machine skips the extract job of a source whose flag is false.
   */
  readonly sources: SourceFlags;
}

/**
 * One ETL run at a time: the state machine puts the lock item `{ lock_id: 'etl' }` only if it is
 * absent or expired (`expires_at < now`, ISO-8601 UTC strings compare in time order), and
 * deletes it (only if it still owns it) on every exit path.
 */
export interface EtlLease {
  readonly lock_id: string;
  readonly owner: string;
  readonly acquired_at: string;
  readonly expires_at: string;
}

/** Lock item id of the ETL lease. */
export const ETL_LEASE_ID = 'etl';
/**
 * Lease lifetime: the execution timeout (6 h) plus a margin, so a lease outlives its run even
 * when nothing released it (the EventBridge rule on TIMED_OUT/ABORTED normally does).
 */
export const ETL_LEASE_SECONDS = 6 * 3600 + 600;

export class InvalidRunInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRunInputError';
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const RUN_ID = /^[A-Za-z0-9._:-]{1,80}$/;

function checkDate(name: string, value: string): string {
  if (
    !DATE.test(value) ||
    Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ||
    new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value
  ) {
    throw new InvalidRunInputError(
      `${name} must be a real date YYYY-MM-DD, got ${JSON.stringify(String(value).slice(0, 40))}`,
    );
  }
  return value;
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Builds the run context; throws `InvalidRunInputError` on malformed input. */
export function prepareRun(
  input: EtlRunInput,
  options: {
    now?: () => Date;
    databasePrefix?: string;
    randomSuffix?: () => string;
    /** @default NO_SOURCES */
    sources?: SourceFlags;
  } = {},
): EtlRunContext {
  const now = (options.now ?? (() => new Date()))();
  const today = now.toISOString().slice(0, 10);
  const lookback = input.lookbackDays ?? DEFAULT_LOOKBACK_DAYS;
  if (!Number.isInteger(lookback) || lookback < 0 || lookback > 3660) {
    throw new InvalidRunInputError('lookbackDays must be an integer between 0 and 3660');
  }
  let from: string;
  let to: string;
  let runDate: string;
  if (input.full) {
    from = FULL_WINDOW.from;
    to = FULL_WINDOW.to;
    runDate = input.date ? checkDate('date', input.date) : today;
  } else if (input.from !== undefined || input.to !== undefined) {
    from = checkDate('from', input.from ?? input.to ?? '');
    to = checkDate('to', input.to ?? input.from ?? '');
    runDate = to;
  } else {
    runDate = input.date ? checkDate('date', input.date) : today;
    from = addDays(runDate, -lookback);
    to = runDate;
  }
  if (from > to) throw new InvalidRunInputError(`window start ${from} is after its end ${to}`);
  const suffix = (options.randomSuffix ?? (() => Math.random().toString(36).slice(2, 8)))();
  const runId =
    input.executionName && RUN_ID.test(input.executionName)
      ? input.executionName
      : `etl-${now.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${suffix}`;
  const prefix = options.databasePrefix ?? '';
  return {
    run_id: runId,
    run_date: runDate,
    date_from: from,
    date_to: to,
    sql: { run_id: athenaLiteral(runId), date_from: athenaLiteral(from), date_to: athenaLiteral(to) },
    lease: {
      lock_id: ETL_LEASE_ID,
      owner: runId,
      acquired_at: now.toISOString(),
      expires_at: new Date(now.getTime() + ETL_LEASE_SECONDS * 1000).toISOString(),
    },
    sources: { ...(options.sources ?? NO_SOURCES) },
    maintenance_tables: TABLES.filter(
      (t) => t.namespace === 'silver' || t.namespace === 'gold' || t.namespace === 'bronze',
    ).map((t) => (prefix ? `${databaseName(t.namespace, prefix)}.${t.name}` : qualifiedName(t))),
  };
}

/** Parses the untyped execution input into `EtlRunInput` (unknown keys ignored). */
export function parseRunInput(raw: unknown): EtlRunInput {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new InvalidRunInputError('ETL input must be an object');
  const o = raw as Record<string, unknown>;
  const str = (k: string): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new InvalidRunInputError(`${k} must be a string`);
    return v;
  };
  const out: {
    date?: string;
    from?: string;
    to?: string;
    full?: boolean;
    lookbackDays?: number;
    executionName?: string;
  } = {};
  const date = str('date');
  const from = str('from');
  const to = str('to');
  const executionName = str('executionName');
  if (date !== undefined) out.date = date;
  if (from !== undefined) out.from = from;
  if (to !== undefined) out.to = to;
  if (executionName !== undefined) out.executionName = executionName;
  if (o.full !== undefined) {
    if (typeof o.full !== 'boolean') throw new InvalidRunInputError('full must be a boolean');
    out.full = o.full;
  }
  if (o.lookbackDays !== undefined) {
    if (typeof o.lookbackDays !== 'number') throw new InvalidRunInputError('lookbackDays must be a number');
    out.lookbackDays = o.lookbackDays;
  }
  return out;
}
