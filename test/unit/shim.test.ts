import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnknownTableError } from '../../lambdas/shared/catalog/index.ts';
import {
  analyzeStatement,
  athenaLiteral,
  ForbiddenSqlError,
  parameterNames,
  parseAthenaLiteral,
  qualifyNamespaces,
  splitStatements,
  toDuckdbNamed,
  toPositional,
} from '../../lambdas/shared/catalog/sql.ts';
import { SHIM_SETUP_SQL, trinoToDuckdb } from '../../local/engine/shim.ts';

type Conn = Awaited<ReturnType<DuckDBInstance['connect']>>;
let instance: DuckDBInstance;
let conn: Conn;

async function one(sql: string): Promise<Record<string, unknown>> {
  const r = await conn.runAndReadAll(trinoToDuckdb(sql));
  return (r.getRowObjectsJson()[0] ?? {}) as Record<string, unknown>;
}

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  conn = await instance.connect();
  for (const s of SHIM_SETUP_SQL) await conn.run(s);
});

afterAll(() => {
  conn.closeSync();
  instance.closeSync();
});

describe('Trino → DuckDB shim (semantics on a real DuckDB)', () => {
  it('divides integers like Trino', async () => {
    expect(await one('SELECT 7 / 2 AS a, CAST(7 AS double) / 2 AS b')).toEqual({ a: 3, b: 3.5 });
  });

  it('date_add takes Trino argument order and units', async () => {
    const r = await one(
      "SELECT CAST(date_add('day', 1, DATE '2024-02-28') AS date) AS d, CAST(date_add('month', 1, DATE '2024-01-31') AS date) AS m, date_add('minute', 30, TIMESTAMPTZ '2024-01-01 23:45:00+00') AS t",
    );
    expect(r).toEqual({ d: '2024-02-29', m: '2024-02-29', t: '2024-01-02 00:15:00+00' });
  });

  it('date_diff counts elapsed units (not boundaries)', async () => {
    const r = await one(
      "SELECT date_diff('day', TIMESTAMP '2024-01-01 23:00:00', TIMESTAMP '2024-01-02 01:00:00') AS d, date_diff('second', TIMESTAMPTZ '2024-01-01 00:00:00+00', TIMESTAMPTZ '2024-01-01 00:31:00+00') AS s",
    );
    expect(r).toEqual({ d: '0', s: '1860' });
  });

  it('count_if is 0 (not NULL) when nothing matches', async () => {
    expect(await one('SELECT count_if(x) AS n FROM (SELECT CAST(NULL AS boolean) AS x) t')).toEqual({
      n: '0',
    });
  });

  it('provides the Trino functions the ETL uses', async () => {
    const r = await one(
      "SELECT from_iso8601_timestamp('2024-03-01T10:00:00Z') AS ts, regexp_like('abc', '^a') AS re, date_format(TIMESTAMP '2024-01-05 10:07:09', '%Y-%m-%dT%H:%i:%S') AS f, day_of_week(DATE '2024-01-07') AS dow, to_hex(md5(to_utf8('abc'))) AS h, to_unixtime(TIMESTAMPTZ '1970-01-01 00:00:10+00') AS u, cardinality(sequence(1, 3)) AS c",
    );
    expect(r).toEqual({
      ts: '2024-03-01 10:00:00+00',
      re: true,
      f: '2024-01-05T10:07:09',
      dow: '7',
      h: '900150983CD24FB0D6963F7D28E17F72',
      u: 10,
      c: '3',
    });
  });

  it('expands UNNEST of an array of rows into named columns', async () => {
    const sql = trinoToDuckdb(
      "SELECT l.product_id, l.quantity * l.price AS amount FROM (SELECT [{'product_id': 'p1', 'quantity': 2, 'price': CAST(1.5 AS double), 'category': NULL}, {'product_id': 'p2', 'quantity': 1, 'price': CAST(4 AS double), 'category': 'x'}] AS items) e CROSS JOIN UNNEST(e.items) AS l(product_id, quantity, price, category) ORDER BY 1",
    );
    expect(sql).toContain('LATERAL (SELECT UNNEST(e.items, recursive := true))');
    const r = await conn.runAndReadAll(sql);
    expect(r.getRowObjectsJson()).toEqual([
      { product_id: 'p1', amount: 3 },
      { product_id: 'p2', amount: 4 },
    ]);
    expect(trinoToDuckdb('SELECT x FROM UNNEST(sequence(1, 2)) AS t(x)')).toBe(
      'SELECT x FROM UNNEST(sequence(1, 2)) AS t(x)',
    );
  });
});

describe('SQL text: parameters, statements, identifiers', () => {
  it('converts :name parameters for Athena (positional) and DuckDB ($name), skipping strings and comments', () => {
    const sql =
      "SELECT ':not_a_param' AS s, x -- :nor_this\nFROM gold.daily_sales WHERE a = :a AND b = :b OR c = :a";
    expect(parameterNames(sql)).toEqual(['a', 'b', 'a']);
    expect(toPositional(sql)).toEqual({
      sql: "SELECT ':not_a_param' AS s, x -- :nor_this\nFROM gold.daily_sales WHERE a = ? AND b = ? OR c = ?",
      names: ['a', 'b', 'a'],
    });
    expect(toDuckdbNamed('SELECT :a, :b')).toBe('SELECT $a, $b');
    expect(() => toPositional('SELECT ?, :a')).toThrow(/both \? and :name/);
  });

  it('encodes Athena execution-parameter literals safely and decodes them back', () => {
    expect(athenaLiteral("O'Brien")).toBe("'O''Brien'");
    expect(athenaLiteral(42)).toBe('42');
    expect(athenaLiteral(null)).toBe('NULL');
    expect(() => athenaLiteral('a\u0000b')).toThrow(/control characters/);
    expect(parseAthenaLiteral("'O''Brien'")).toBe("O'Brien");
    expect(parseAthenaLiteral('3.5')).toBe(3.5);
    expect(() => parseAthenaLiteral('1; DROP TABLE x')).toThrow(/unsupported/);
  });

  it('splits scripts on top-level semicolons only', () => {
    expect(splitStatements("SELECT ';'; SELECT 2;\n-- done;\n")).toEqual(["SELECT ';'", 'SELECT 2']);
  });

  it('finds the kind, target and tables of a statement', () => {
    const info = analyzeStatement(
      'MERGE INTO gold.daily_sales t USING (WITH a AS (SELECT order_date FROM silver.orders) SELECT * FROM a) s ON t.sale_date = s.order_date WHEN MATCHED THEN UPDATE SET orders = 1',
    );
    expect(info.kind).toBe('merge');
    expect(info.target).toBe('gold.daily_sales');
    expect([...info.tables].sort()).toEqual(['gold.daily_sales', 'silver.orders']);
    expect(
      analyzeStatement('INSERT INTO silver.events (event_id) SELECT event_id FROM bronze.events').kind,
    ).toBe('insert');
    expect(
      analyzeStatement('SELECT a IS DISTINCT FROM b, extract(year FROM d) FROM gold.monthly_kpis').tables,
    ).toEqual(['gold.monthly_kpis']);
  });

  it('rejects identifiers outside the catalog with a clear error', () => {
    expect(() => analyzeStatement('SELECT * FROM gold.nope')).toThrow(UnknownTableError);
    expect(() => analyzeStatement('SELECT * FROM information_schema.tables')).toThrow(
      /not in the lake catalog/,
    );
    expect(() => analyzeStatement('SELECT * FROM secrets')).toThrow(/unknown table "secrets"/);
    expect(() => analyzeStatement("SELECT * FROM read_csv('/etc/passwd')")).toThrow(ForbiddenSqlError);
    expect(() => analyzeStatement('SELECT * FROM gold.daily_sales a, main.t b')).toThrow(UnknownTableError);
    expect(() => analyzeStatement('SELECT * FROM gold.daily_sales JOIN silver.x ON true')).toThrow(
      /silver\.x/,
    );
  });

  it('maps logical namespaces to Glue databases for Athena', () => {
    expect(
      qualifyNamespaces('SELECT * FROM silver.events e JOIN gold.daily_sales d ON e.x = d.silver', 'dev_'),
    ).toBe('SELECT * FROM dev_silver.events e JOIN dev_gold.daily_sales d ON e.x = d.silver');
  });
});
