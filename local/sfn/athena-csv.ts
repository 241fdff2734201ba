/**
 * An Athena `startQueryExecution.sync` task run on DuckDB the way Athena answers it: the rows
 * written as a CSV result file (header + quoted values) and the `QueryExecution` the state
 * machine reads its `OutputLocation` from. Shared by the local training and forecast runners,
 * whose Lambdas read those CSV files as they read Athena's on AWS.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAthenaLiteral } from '../../lambdas/shared/catalog/sql.ts';
import type { DuckdbEngine } from '../engine/duckdb.ts';
import { isObject } from './etl-runner.ts';

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface AthenaCsvAnswer {
  /** Rows the statement affected or returned. */
  readonly rows: number;
  readonly out: {
    QueryExecution: {
      QueryExecutionId: string;
      Query: string;
      ResultConfiguration: { OutputLocation: string };
      Status: { State: 'SUCCEEDED' };
    };
  };
}

/** Runs the task input's `QueryString` with its `ExecutionParameters`; the result file is `<id>.csv`. */
export async function runAthenaTaskToCsv(
  engine: DuckdbEngine,
  state: string,
  input: unknown,
  resultsDir: string,
  id: string,
): Promise<AthenaCsvAnswer> {
  if (!isObject(input) || typeof input.QueryString !== 'string') {
    throw new Error(`${state}: task input has no QueryString`);
  }
  const raw = Array.isArray(input.ExecutionParameters) ? input.ExecutionParameters : [];
  const result = await engine.executePositional(
    input.QueryString,
    raw.map((v) => parseAthenaLiteral(String(v))),
  );
  const file = join(resultsDir, `${id}.csv`);
  const columns = result.columns.map((c) => c.name);
  const lines = [columns.map(csvCell).join(',')];
  for (const row of result.rows) lines.push(columns.map((c) => csvCell(row[c])).join(','));
  writeFileSync(file, `${lines.join('\n')}\n`);
  return {
    rows: result.affectedRows ?? result.rows.length,
    out: {
      QueryExecution: {
        QueryExecutionId: id,
        Query: input.QueryString,
        ResultConfiguration: { OutputLocation: pathToFileURL(file).href },
        Status: { State: 'SUCCEEDED' },
      },
    },
  };
}
