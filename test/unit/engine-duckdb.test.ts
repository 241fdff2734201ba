import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';

const COLS =
  'sale_date, orders, units, revenue, cancelled_orders, cancelled_revenue, net_revenue, customers, avg_order_value, etl_run_id';

describe('DuckdbEngine (local Iceberg lake)', () => {
  let dir: string;
  let engine: DuckdbEngine;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoplake-engine-'));
    engine = await DuckdbEngine.open({ warehouseDir: join(dir, 'warehouse') });
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates every catalog table as an empty Iceberg table with a view', async () => {
    const tables = await engine.describeTables();
    expect(tables.find((t) => t.table === 'gold.monthly_kpis')).toMatchObject({
      rows: 0,
      files: 0,
      snapshotId: null,
    });
    expect(await engine.query('SELECT count(*) AS n FROM silver.events')).toEqual([{ n: 0 }]);
  });

  it('commits INSERT … SELECT as one append snapshot, with bound parameters', async () => {
    const r = await engine.execute(
      `INSERT INTO gold.daily_sales (${COLS})
       SELECT CAST(date_add('day', d, CAST(:start AS date)) AS date), d, d, 1.5 * d, 0, 0, 1.5 * d, 1, NULL, :run
       FROM UNNEST(sequence(0, 3)) AS t(d)`,
      { params: { start: '2024-01-30', run: 'r1' } },
    );
    expect(r).toMatchObject({ kind: 'insert', target: 'gold.daily_sales', affectedRows: 4 });
    const t = await engine.table('gold.daily_sales');
    expect(t.currentSnapshot()?.['snapshot-id']).toBe(r.snapshotId);
    expect(t.currentSnapshot()?.summary.operation).toBe('append');
    const rows = await engine.query<{ sale_date: string; revenue: number }>(
      'SELECT sale_date, revenue FROM gold.daily_sales ORDER BY sale_date',
    );
    expect(rows).toEqual([
      { sale_date: '2024-01-30', revenue: 0 },
      { sale_date: '2024-01-31', revenue: 1.5 },
      { sale_date: '2024-02-01', revenue: 3 },
      { sale_date: '2024-02-02', revenue: 4.5 },
    ]);
  });

  it('commits MERGE as a copy-on-write overwrite of the changed partitions only', async () => {
    const before = await engine.table('gold.daily_sales');
    const janFiles = (await before.planFiles()).filter((f) => JSON.stringify(f.partition).includes('648'));
    expect(janFiles.length).toBe(1);
    const r = await engine.execute(
      `MERGE INTO gold.daily_sales t
       USING (SELECT CAST('2024-02-01' AS date) AS sale_date, 100 AS orders UNION ALL SELECT CAST('2024-03-05' AS date), 7) s
       ON t.sale_date = s.sale_date
       WHEN MATCHED THEN UPDATE SET orders = s.orders, etl_run_id = 'r2'
       WHEN NOT MATCHED THEN INSERT (${COLS}) VALUES (s.sale_date, s.orders, 0, 0, 0, 0, 0, 0, NULL, 'r2')`,
    );
    expect(r.kind).toBe('merge');
    const t = await engine.table('gold.daily_sales');
    expect(t.currentSnapshot()?.summary.operation).toBe('overwrite');
    const after = await t.planFiles();
    // January (month partition 648 = 2024-01) was not rewritten.
    for (const f of janFiles) expect(after.map((x) => x.filePath)).toContain(f.filePath);
    expect(
      await engine.query(
        'SELECT sale_date, orders, etl_run_id FROM gold.daily_sales WHERE etl_run_id = :r ORDER BY 1',
        {
          r: 'r2',
        },
      ),
    ).toEqual([
      { sale_date: '2024-02-01', orders: 100, etl_run_id: 'r2' },
      { sale_date: '2024-03-05', orders: 7, etl_run_id: 'r2' },
    ]);
  });

  it('a statement that changes nothing commits nothing', async () => {
    const id = (await engine.table('gold.daily_sales')).currentSnapshot()?.['snapshot-id'];
    const r = await engine.execute(
      "MERGE INTO gold.daily_sales t USING (SELECT CAST('2024-02-01' AS date) AS d) s ON t.sale_date = s.d WHEN MATCHED THEN UPDATE SET orders = 100",
    );
    expect(r.affectedRows).toBe(0);
    await engine.execute("DELETE FROM gold.daily_sales WHERE etl_run_id = 'never'");
    expect((await engine.table('gold.daily_sales')).currentSnapshot()?.['snapshot-id']).toBe(id);
  });

  it('DELETE empties partitions that lose every row', async () => {
    await engine.execute("DELETE FROM gold.daily_sales WHERE sale_date >= CAST('2024-03-01' AS date)");
    expect(
      await engine.query("SELECT count(*) AS n FROM gold.daily_sales WHERE sale_date >= DATE '2024-03-01'"),
    ).toEqual([{ n: 0 }]);
    expect(await engine.query('SELECT count(*) AS n FROM gold.daily_sales')).toEqual([{ n: 4 }]);
  });

  it('runs Athena-style positional statements (the Step Functions task input)', async () => {
    const r = await engine.executePositional(
      'SELECT count(*) AS n FROM gold.daily_sales WHERE etl_run_id = ?',
      ['r1'],
    );
    expect(r.rows).toEqual([{ n: 3 }]);
    await expect(engine.executePositional('SELECT ? AS a', [])).rejects.toThrow(/placeholders/);
  });

  it('maps OPTIMIZE and VACUUM to compaction and snapshot expiry', async () => {
    const compact = await engine.execute('OPTIMIZE gold.daily_sales REWRITE DATA USING BIN_PACK');
    expect(compact.kind).toBe('ddl');
    const rows = await engine.query('SELECT count(*) AS n FROM gold.daily_sales');
    expect(rows).toEqual([{ n: 4 }]);
    await expect(engine.execute('VACUUM gold.nope')).rejects.toThrow(/not in the lake catalog/);
    await expect(engine.execute('DROP TABLE gold.daily_sales')).rejects.toThrow(
      /tables come from the catalog/,
    );
  });
});
