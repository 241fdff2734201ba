/**
 * The Trino → DuckDB dialect shim: what lets the `athena/*.sql` files (Trino, as Athena runs
 * them) run unchanged on the local DuckDB engine.
 *
 * Two parts:
 *  - session setup (`SHIM_SETUP_SQL`): Trino semantics DuckDB differs on (integer division,
 *    UTC session zone) and temp macros for Trino functions DuckDB lacks or names differently;
 *  - a token-level rewrite (`trinoToDuckdb`) for syntax a macro cannot fix (UNNEST of an
 *    array of rows into named columns).
 *
 * Portable-SQL rules the ETL follows (so the shim stays small):
 *  - `date_add` on a DATE yields TIMESTAMP in DuckDB: wrap it as `CAST(date_add(…) AS date)`;
 *    `date_trunc('month', d)` likewise: `CAST(date_trunc('month', d) AS date)`.
 *  - divide with `CAST(x AS double) / NULLIF(y, 0)` (Trino errors on /0, DuckDB yields NULL).
 *  - no lambdas (`transform(x -> …)`), no `date_parse`, no `IGNORE NULLS` (syntax differs).
 *  - `to_hex(md5(to_utf8(s)))` is the only supported use of to_hex / to_utf8.
 */
import { tokenize } from '../../lambdas/shared/catalog/sql.ts';

/** Session settings + temp macros installed on every DuckDB connection of the engine. */
export const SHIM_SETUP_SQL: readonly string[] = [
  "SET TimeZone = 'UTC'",
  // Trino: 5/2 = 2 for integers.
  'SET integer_division = true',
  // date_add(unit, n, t): Trino's argument order and units.
  `CREATE OR REPLACE TEMP MACRO date_add(unit, n, t) AS (
    CASE lower(unit)
      WHEN 'millisecond' THEN t + to_milliseconds(CAST(n AS BIGINT))
      WHEN 'second' THEN t + to_seconds(CAST(n AS BIGINT))
      WHEN 'minute' THEN t + to_minutes(CAST(n AS BIGINT))
      WHEN 'hour' THEN t + to_hours(CAST(n AS BIGINT))
      WHEN 'day' THEN t + to_days(CAST(n AS INTEGER))
      WHEN 'week' THEN t + to_weeks(CAST(n AS INTEGER))
      WHEN 'month' THEN t + to_months(CAST(n AS INTEGER))
      WHEN 'quarter' THEN t + to_months(3 * CAST(n AS INTEGER))
      WHEN 'year' THEN t + to_years(CAST(n AS INTEGER))
    END)`,
  // Trino counts elapsed units; DuckDB's date_diff counts boundaries, its date_sub elapsed units.
  'CREATE OR REPLACE TEMP MACRO date_diff(unit, a, b) AS date_sub(unit, a, b)',
  'CREATE OR REPLACE TEMP MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)',
  'CREATE OR REPLACE TEMP MACRO from_iso8601_date(s) AS CAST(s AS DATE)',
  'CREATE OR REPLACE TEMP MACRO approx_distinct(x) AS approx_count_distinct(x)',
  // Trino approx_percentile (a sketch with ~1 % rank error, returning a value of the data) →
  // DuckDB's exact nearest-rank quantile_disc: deterministic locally, within Trino's error bound.
  'CREATE OR REPLACE TEMP MACRO approx_percentile(x, p) AS quantile_disc(x, p)',
  'CREATE OR REPLACE TEMP MACRO regexp_like(s, p) AS regexp_matches(s, p)',
  // Trino date_format uses MySQL specifiers; %i is minutes (strftime %M).
  "CREATE OR REPLACE TEMP MACRO date_format(t, f) AS strftime(t, replace(f, '%i', '%M'))",
  // Trino day_of_week / dow: ISO, Monday = 1 … Sunday = 7 (DuckDB's dow is Sunday = 0).
  'CREATE OR REPLACE TEMP MACRO day_of_week(d) AS isodow(d)',
  'CREATE OR REPLACE TEMP MACRO dow(d) AS isodow(d)',
  'CREATE OR REPLACE TEMP MACRO to_unixtime(t) AS epoch(t)',
  'CREATE OR REPLACE TEMP MACRO from_unixtime(x) AS to_timestamp(x)',
  'CREATE OR REPLACE TEMP MACRO cardinality(x) AS len(x)',
  // Trino count_if is 0 when no row matches; DuckDB yields NULL when every input is NULL.
  'CREATE OR REPLACE TEMP MACRO count_if(x) AS count(CASE WHEN x THEN 1 END)',
  // Trino sequence(start, stop) of integers → list (UNNEST it for rows).
  'CREATE OR REPLACE TEMP MACRO sequence(a, b) AS generate_series(a, b)',
  // to_hex(md5(to_utf8(s))): DuckDB's md5(varchar) is lower-case hex already.
  'CREATE OR REPLACE TEMP MACRO to_utf8(s) AS s',
  'CREATE OR REPLACE TEMP MACRO to_hex(x) AS upper(x)',
  // Trino element_at(map, key) is NULL for a missing key (map[key] fails there); DuckDB's
  // element_at returns a list, its map[key] is NULL when missing. Arrays: both 1-based.
  'CREATE OR REPLACE TEMP MACRO element_at(m, k) AS m[k]',
  // Trino normal_cdf(mean, sd, v): Hart's double-precision algorithm (as given by G. West,
  // "Better approximations to cumulative normal functions", 2005); |error| < 1e-14.
  `CREATE OR REPLACE TEMP MACRO shoplake_ncdf_tail(x) AS (
    CASE
      WHEN x > 37 THEN 0.0
      WHEN x < 7.07106781186547 THEN exp(-x * x / 2) * ((((((0.0352624965998911 * x + 0.700383064443688) * x
        + 6.37396220353165) * x + 33.912866078383) * x + 112.079291497871) * x + 221.213596169931) * x
        + 220.206867912376) / (((((((0.0883883476483184 * x + 1.75566716318264) * x + 16.064177579207) * x
        + 86.7807322029461) * x + 296.564248779674) * x + 637.333633378831) * x + 793.826512519948) * x
        + 440.413735824752)
      ELSE exp(-x * x / 2) / (x + 1 / (x + 2 / (x + 3 / (x + 4 / (x + 0.65))))) / 2.506628274631
    END)`,
  `CREATE OR REPLACE TEMP MACRO normal_cdf(m, sd, v) AS (
    CASE WHEN (v - m) / sd > 0 THEN 1 - shoplake_ncdf_tail(abs((v - m) / sd))
    ELSE shoplake_ncdf_tail(abs((v - m) / sd)) END)`,
];

/**
 * Rewrites Trino syntax DuckDB cannot take: `UNNEST(array_of_rows) AS t(a, b, …)` becomes
 * `LATERAL (SELECT UNNEST(array_of_rows, recursive := true)) AS t(a, b, …)`, which expands
 * the rows into named columns as Trino does. Single-column UNNEST is left alone.
 */
export function trinoToDuckdb(sql: string): string {
  const tokens = tokenize(sql);
  const edits: { start: number; end: number; text: string }[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t?.type !== 'ident' || t.text.toLowerCase() !== 'unnest' || tokens[i + 1]?.text !== '(') continue;
    // find the matching ')'
    let depth = 0;
    let close = -1;
    for (let j = i + 1; j < tokens.length; j++) {
      const x = tokens[j];
      if (x?.text === '(') depth++;
      else if (x?.text === ')') {
        depth--;
        if (depth === 0) {
          close = j;
          break;
        }
      }
    }
    if (close < 0) continue;
    let k = close + 1;
    if (tokens[k]?.type === 'ident' && tokens[k]?.text.toLowerCase() === 'as') k++;
    const alias = tokens[k];
    if (alias?.type !== 'ident' || tokens[k + 1]?.text !== '(') continue;
    let names = 0;
    for (let j = k + 2; j < tokens.length && tokens[j]?.text !== ')'; j++)
      if (tokens[j]?.type === 'ident') names++;
    if (names < 2) continue;
    const open = tokens[i + 1];
    const closeTok = tokens[close];
    if (!open || !closeTok) continue;
    const inner = sql.slice(open.end, closeTok.start);
    edits.push({
      start: t.start,
      end: closeTok.end,
      text: `LATERAL (SELECT UNNEST(${inner}, recursive := true))`,
    });
  }
  let out = sql;
  for (const e of edits.sort((a, b) => b.start - a.start))
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}
