/**
 * `shoplake query "SQL"`: runs one read-only statement (Trino dialect, like Athena: SELECT,
 * WITH, VALUES, SHOW, DESCRIBE, EXPLAIN) on the local lake through the DuckDB engine; writes are
 * refused (they belong to `shoplake etl`). Only catalog tables can be referenced.
 * `--param name=value` binds `:name` placeholders. Output: an aligned table, or `--json`.
 */
import type { Command } from 'commander';
import { ReadOnlyQueryError } from '../../engine/duckdb.ts';
import { openLocalEngine } from '../../engine/open.ts';
import { isSqlFileArgument, readSqlStatements } from '../../engine/sql-files.ts';
import type { Row } from '../../engine/types.ts';
import { reporter } from '../output.ts';

/** Renders rows as an aligned text table (at most `limit` rows). */
export function renderTable(rows: readonly Row[], columns: readonly string[], limit = 200): string {
  if (columns.length === 0) return '(no columns)';
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return 'NULL';
    if (typeof v === 'number')
      return Number.isInteger(v) ? String(v) : String(Math.round(v * 10_000) / 10_000);
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  const shown = rows.slice(0, limit).map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) =>
    Math.min(60, Math.max(c.length, ...shown.map((r) => (r[i] ?? '').length))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.slice(0, 60).padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line([...columns]), line(widths.map((w) => '-'.repeat(w))), ...shown.map(line)];
  out.push(rows.length > limit ? `(${rows.length} rows, first ${limit} shown)` : `(${rows.length} rows)`);
  return out.join('\n');
}

function collectParam(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new Error(`--param expects name=value, got ${JSON.stringify(value)}`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function register(program: Command): void {
  program
    .command('query')
    .description('run one read-only SQL statement (Trino dialect, catalog tables only) on the local lake')
    .argument('<sql>', 'one SQL statement, or a path to an athena/*.sql file')
    .option('--param <name=value>', 'bind :name (repeatable)', collectParam, {})
    .option('--json', 'print rows as JSON on stdout')
    .action(async (sql: string, opts: { param: Record<string, string>; json?: boolean }, cmd: Command) => {
      const { stateDir } = cmd.optsWithGlobals<{ stateDir: string }>();
      const report = reporter({ json: opts.json });
      const engine = await openLocalEngine(stateDir);
      try {
        const text = isSqlFileArgument(sql) ? readSqlStatements(sql) : [sql];
        if (text.length !== 1)
          throw new ReadOnlyQueryError(`${sql} holds ${text.length} statements; query runs one`);
        const result = await engine.readOnlyQuery(text[0] ?? '', opts.param);
        const columns = result.columns.map((c) => c.name);
        report.result(
          { columns, rows: result.rows, elapsed_ms: Math.round(result.elapsedMs) },
          () => `${renderTable(result.rows, columns)}  ${Math.round(result.elapsedMs)} ms`,
        );
      } finally {
        await engine.close();
      }
    });
}
