/**
 * The forecast state machine's TypeScript tasks as plain functions: input validation, Athena
 * parameters that match the SQL's placeholders, and the idempotent load into gold.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { athenaStatementOfFile } from '../../lambdas/etl/definition.ts';
import {
  ForecastInputError,
  type ForecastRow,
  LOAD_CHUNK_ROWS,
  loadForecasts,
  prepareForecast,
} from '../../lambdas/forecast/pipeline.ts';
import type { ForecastRegistry } from '../../lambdas/shared/forecast/registry.ts';

const NOW = new Date('2026-12-01T06:00:00Z');
const placeholders = (file: string) =>
  (athenaStatementOfFile(file, '').sql.replace(/--.*$/gm, '').match(/\?/g) ?? []).length;

describe('prepareForecast', () => {
  it('passes one Athena parameter per placeholder of each query it feeds', () => {
    const run = prepareForecast({ mode: 'train' }, NOW, 'file:///lake/ml/forecast');
    const asl = readFileSync('step-functions/forecast.asl.json', 'utf8');
    expect(asl).toContain('$.run.parameters.export');
    expect(asl).toContain('$.run.parameters.vsActual');
    expect(run.parameters.export).toHaveLength(placeholders('forecast_history_export.sql'));
    expect(run.parameters.vsActual).toHaveLength(placeholders('etl_64_gold_demand_vs_actual.sql'));
    // Training exports 570 days before the run: the features' 28-day warm-up + 540 days.
    expect(run.parameters.export).toEqual(["'2025-05-10'"]);
  });

  it('refuses bad input with a clear error', () => {
    expect(() => prepareForecast({ mode: 'fit' }, NOW, 'x')).toThrow(ForecastInputError);
    expect(() => prepareForecast({ country: 'Germany' }, NOW, 'x')).toThrow(/alpha-2/);
    expect(() => prepareForecast({ params: { depth: 3 } }, NOW, 'x')).toThrow(
      /unknown model parameter depth/,
    );
    expect(() => prepareForecast({ params: { trees: -1 } }, NOW, 'x')).toThrow(/non-negative/);
    expect(prepareForecast({}, NOW, 'x').mode).toBe('predict');
  });
});

describe('loadForecasts', () => {
  const row = (i: number): ForecastRow => ({
    level: 'product',
    item_id: `p'${i}`,
    category: 'A',
    origin_date: '2026-11-30',
    forecast_date: '2026-12-01',
    horizon: 1,
    model_version: 'v1',
    model: 'gbm',
    forecast: 1.5,
    lower: 0,
    upper: 3,
    flags: i === 0 ? 'new_product' : null,
    created_at: '2026-12-01T06:00:00.000Z',
  });

  it('deletes the origin/version it replaces, then inserts in chunks under Athena’s query size', async () => {
    const rows = Array.from({ length: LOAD_CHUNK_ROWS + 5 }, (_, i) => row(i));
    const statements: string[] = [];
    const out = await loadForecasts(
      { forecastsUri: 'file:///f.json' },
      {
        registry: {} as ForecastRegistry,
        artifactsUri: 'file:///a',
        io: { readText: async () => JSON.stringify(rows), writeText: async () => undefined },
        statements: { run: async (sql) => void statements.push(sql) },
      },
    );
    expect(out).toEqual({ rows: rows.length, statements: 3, origins: ['2026-11-30'] });
    expect(statements[0]).toBe(
      "DELETE FROM gold.demand_forecast WHERE origin_date = DATE '2026-11-30' AND model_version = 'v1'",
    );
    expect(statements[1]).toContain("'p''0'"); // quotes escaped
    expect(statements[1]).toContain("'new_product'");
    for (const s of statements) expect(Buffer.byteLength(s)).toBeLessThan(262_144);
  });

  it('refuses a malformed forecasts file without writing', async () => {
    const statements: string[] = [];
    const deps = {
      registry: {} as ForecastRegistry,
      artifactsUri: 'file:///a',
      io: {
        readText: async () => JSON.stringify([{ ...row(1), forecast_date: 'tomorrow' }]),
        writeText: async () => undefined,
      },
      statements: { run: async (sql: string) => void statements.push(sql) },
    };
    await expect(loadForecasts({ forecastsUri: 'file:///f.json' }, deps)).rejects.toThrow(
      /row 0 is malformed/,
    );
    expect(statements).toEqual([]);
  });
});
