/**
 * The translations the Trino tier runs shoplake's Athena SQL through: execution parameters as
 * `EXECUTE IMMEDIATE … USING`, Athena's maintenance syntax as Trino's `ALTER TABLE … EXECUTE`,
 * and the catalog's tables as Trino Iceberg DDL. (The tier itself runs them on a real Trino.)
 */
import { describe, expect, it } from 'vitest';
import { getTable } from '../../lambdas/shared/catalog/index.ts';
import {
  trinoCreateTable,
  trinoMaintenanceStatements,
  trinoStatement,
  trinoType,
} from '../../local/engine/trino.ts';
import { compareRows, normalise } from '../trino/compare.ts';

describe('trinoStatement', () => {
  it('passes a statement without parameters through', () => {
    expect(trinoStatement('SELECT 1')).toBe('SELECT 1');
  });

  it('turns Athena execution parameters into EXECUTE IMMEDIATE … USING, quotes doubled', () => {
    expect(trinoStatement("SELECT * FROM t WHERE a = ? AND b = 'x' AND c = ?", ["'it''s'", 'NULL'])).toBe(
      "EXECUTE IMMEDIATE 'SELECT * FROM t WHERE a = ? AND b = ''x'' AND c = ?' USING 'it''s', NULL",
    );
  });

  it('refuses a placeholder count that differs from the parameters, as Athena does', () => {
    expect(() => trinoStatement('SELECT ?', [])).toThrow(/1 \? placeholders but 0/);
    // a ? inside a string literal is not a placeholder
    expect(trinoStatement("SELECT '?'", [])).toBe("SELECT '?'");
  });
});

describe('trinoMaintenanceStatements', () => {
  it('maps OPTIMIZE … REWRITE DATA USING BIN_PACK to ALTER TABLE … EXECUTE optimize', () => {
    expect(trinoMaintenanceStatements('OPTIMIZE silver.events REWRITE DATA USING BIN_PACK')).toEqual([
      'ALTER TABLE silver.events EXECUTE optimize',
    ]);
    expect(
      trinoMaintenanceStatements(
        "optimize gold.daily_sales rewrite data using bin_pack WHERE sale_date >= DATE '2026-01-01'",
      ),
    ).toEqual(["ALTER TABLE gold.daily_sales EXECUTE optimize WHERE sale_date >= DATE '2026-01-01'"]);
  });

  it("maps VACUUM to expire_snapshots + remove_orphan_files with the table's retention", () => {
    const days =
      Number(getTable('silver.events').properties['history.expire.max-snapshot-age-ms']) / 86_400_000;
    expect(trinoMaintenanceStatements('VACUUM silver.events')).toEqual([
      `ALTER TABLE silver.events EXECUTE expire_snapshots(retention_threshold => '${days}d')`,
      `ALTER TABLE silver.events EXECUTE remove_orphan_files(retention_threshold => '${days}d')`,
    ]);
  });

  it('leaves other statements alone', () => {
    expect(trinoMaintenanceStatements('SELECT 1')).toBeUndefined();
    expect(trinoMaintenanceStatements('DELETE FROM silver.events')).toBeUndefined();
  });
});

describe('trinoCreateTable', () => {
  it('maps Iceberg types, partition transforms and sort order to Trino DDL', () => {
    expect(trinoType('timestamptz')).toBe('timestamp(6) with time zone');
    expect(trinoType('decimal(12, 2)')).toBe('decimal(12,2)');
    expect(trinoType({ type: 'map', key: 'string', value: 'string' })).toBe('map(varchar, varchar)');
    expect(
      trinoType({
        type: 'list',
        element: { type: 'struct', fields: [{ name: 'a', type: 'long', required: true }] },
      }),
    ).toBe('array(row("a" bigint))');
    const ddl = trinoCreateTable(getTable('silver.events'));
    expect(ddl).toMatch(/^CREATE TABLE IF NOT EXISTS silver\.events \(/);
    expect(ddl).toContain('"event_id" varchar NOT NULL');
    expect(ddl).toContain("partitioning = ARRAY['day(event_time)']");
  });
});

describe('compareRows', () => {
  const columns = [
    { name: 'id', type: 'long' },
    { name: 'amount', type: 'decimal(10,2)' },
    { name: 'rate', type: 'double' },
    { name: 'at', type: 'timestamptz' },
  ];

  it('matches decimals and timestamps exactly across the two encodings, doubles within a tolerance', () => {
    const duck = [{ id: 1, amount: 3.5, rate: 0.1 + 0.2, at: '2026-11-20T10:00:00.123Z' }];
    const trino = [{ id: 1, amount: '3.50', rate: 0.3, at: '2026-11-20 10:00:00.123456 UTC' }];
    expect(compareRows(columns, duck, trino).differences).toEqual([]);
  });

  it('reports a decimal that differs in the last cent and a rate beyond the tolerance', () => {
    const duck = [{ id: 1, amount: '3.51', rate: 0.3, at: null }];
    const trino = [{ id: 1, amount: '3.50', rate: 0.3, at: null }];
    expect(compareRows(columns, duck, trino).differences).toHaveLength(2);
    const off = compareRows(columns, [{ id: 1, amount: 1, rate: 0.3 }], [{ id: 1, amount: 1, rate: 0.3001 }]);
    expect(off.differences).toEqual([expect.stringMatching(/^rate: duckdb 0.3 vs trino 0.3001/)]);
  });

  it('normalises Trino rows (arrays) and DuckDB structs (objects) alike', () => {
    const type = {
      type: 'struct' as const,
      fields: [{ name: 'p', type: 'string' as const, required: true }],
    };
    expect(normalise(type, ['x'])).toEqual(normalise(type, { p: 'x' }));
  });
});
