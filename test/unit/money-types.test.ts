/**
 * Exact money (issue 16): the catalog declares money as decimals once, and every generated
 * form carries them (Glue, Athena DDL, Iceberg schema, local DuckDB type, QuickSight).
 */
import { describe, expect, it } from 'vitest';
import { quicksightColumnType } from '../../infra/stacks/bi-stack.ts';
import { analyticsDataset } from '../../lambdas/shared/analytics/datasets.ts';
import {
  athenaDdl,
  GOLD_DAILY_SALES,
  glueTableInput,
  icebergSchema,
  MONEY_TYPE,
  PRICE_TYPE,
  SILVER_ORDER_LINES,
} from '../../lambdas/shared/catalog/index.ts';
import { hasAtMostFourDecimals } from '../../lambdas/shared/event-schema.ts';
import { duckdbType } from '../../local/iceberg/schema.ts';

describe('money types generated from the catalog', () => {
  it('Glue, Athena DDL and the Iceberg schema carry the decimals', () => {
    const glue = glueTableInput(GOLD_DAILY_SALES, { warehouseUri: 's3://lake/warehouse' });
    const cols = Object.fromEntries(glue.TableInput.StorageDescriptor.Columns.map((c) => [c.Name, c.Type]));
    expect(cols).toMatchObject({
      revenue: 'decimal(38,2)',
      avg_order_value: 'decimal(38,2)',
      orders: 'bigint',
    });
    expect(athenaDdl(SILVER_ORDER_LINES, { warehouseUri: 's3://lake/warehouse' })).toContain(
      '`unit_price` decimal(18,4)',
    );
    const fields = Object.fromEntries(icebergSchema(SILVER_ORDER_LINES).fields.map((f) => [f.name, f.type]));
    expect(fields).toMatchObject({ unit_price: 'decimal(18, 4)', line_amount: 'decimal(38, 2)' });
    expect(duckdbType(MONEY_TYPE)).toBe('DECIMAL(38, 2)');
    expect(duckdbType(PRICE_TYPE)).toBe('DECIMAL(18, 4)');
  });

  it('QuickSight reads money columns as DECIMAL (the dashboard sums them)', () => {
    // QuickSight data sets are the dashboard data sets (lambdas/shared/analytics/datasets.ts).
    const revenue = analyticsDataset('monthly_kpis')?.columns.find((c) => c.name === 'revenue');
    expect(revenue?.kind).toBe('money');
    expect(revenue && quicksightColumnType(revenue.kind)).toBe('DECIMAL');
  });

  it('the contract refuses prices that decimal(18,4) cannot hold exactly, not float noise', () => {
    expect([38.99, 0.001, 0.1 + 0.2, 1_000_000_000, 0].every(hasAtMostFourDecimals)).toBe(true);
    expect([12.34567, 0.00001, 1 / 3].some(hasAtMostFourDecimals)).toBe(false);
  });
});
