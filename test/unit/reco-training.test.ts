import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { athenaStatementOfFile, etlSqlKeys, sqlFileOfKey } from '../../lambdas/etl/definition.ts';
import type { RegistryEntry } from '../../lambdas/shared/recommender/store.ts';
import { newVersion } from '../../lambdas/shared/recommender/version.ts';
import {
  parseCooccurrenceCsv,
  prepareRun,
  qualityGate,
  TrainingInputError,
} from '../../lambdas/training/pipeline.ts';
import { TRAINING_SQL_PARAMETERS } from '../../lambdas/training/sql.ts';

const NOW = new Date('2026-11-21T10:15:00.123Z');

describe('training run preparation', () => {
  it('passes each SQL file its parameters in the order the file uses them', () => {
    for (const q of Object.values(TRAINING_SQL_PARAMETERS)) {
      expect(athenaStatementOfFile(q.file, '').parameters, q.file).toEqual([...q.names]);
    }
    const definition = readFileSync('step-functions/train.asl.json', 'utf8');
    expect(etlSqlKeys(definition).map(sqlFileOfKey).sort()).toEqual(
      Object.values(TRAINING_SQL_PARAMETERS)
        .map((q) => q.file)
        .sort(),
    );
  });

  it('fixes a sortable version and Athena literals for the run', () => {
    const run = prepareRun({ lookbackDays: 7, weights: { cart: 2 } }, NOW);
    expect(run.version).toMatch(/^v20261121T101500Z-[0-9a-f]{4}$/);
    expect(run.since).toBe('2026-11-14T10:15:00.123Z');
    expect(run.parameters.interactions).toEqual([
      `'${run.version}'`,
      "'2026-11-14T10:15:00.123Z'",
      '1',
      '2',
      '5',
    ]);
    expect(run.parameters.cooccurrence).toEqual([`'${run.version}'`, '100', '2', '50']);
    expect(newVersion(NOW, 'abcd') < newVersion(new Date('2026-11-21T10:15:01Z'), '0000')).toBe(true);
  });

  it('refuses bad input with a clear error', () => {
    expect(() => prepareRun({ version: "v1'; DROP TABLE x" }, NOW)).toThrow(TrainingInputError);
    expect(() => prepareRun({ model: 'nope' }, NOW)).toThrow(/unknown model/);
    expect(() => prepareRun({ weights: { view: 'x' } }, NOW)).toThrow(/weights.view must be a number/);
  });
});

describe('quality gate', () => {
  const metrics = (blend: number, pop: number) => ({
    blend: { 'HR@10': blend, 'NDCG@10': blend / 2, users: 100 },
    popularity: { 'HR@10': pop, 'NDCG@10': pop / 2, users: 100 },
  });
  const active = (ndcg: number): RegistryEntry => ({
    version: 'v-old',
    status: 'active',
    model: 'blend',
    params: {},
    metrics: { blend: { 'HR@10': ndcg * 2, 'NDCG@10': ndcg } },
    snapshots: {},
    trained_at: '2026-11-01T00:00:00Z',
    interactions: 1,
    users: 1,
    items: 1,
  });

  it('passes a candidate that beats popularity and holds the active model’s level', () => {
    expect(qualityGate({ model: 'blend', metrics: metrics(0.6, 0.4) }, active(0.3), 10, 0.05)).toEqual({
      passed: true,
      reasons: [],
    });
  });

  it('refuses a candidate that does not beat popularity', () => {
    const g = qualityGate({ model: 'blend', metrics: metrics(0.4, 0.4) }, undefined, 10, 0.05);
    expect(g.passed).toBe(false);
    expect(g.reasons[0]).toContain('does not beat popularity');
  });

  it('refuses a candidate clearly worse than the active model, within tolerance otherwise', () => {
    expect(qualityGate({ model: 'blend', metrics: metrics(0.5, 0.4) }, active(0.3), 10, 0.05).passed).toBe(
      false,
    );
    expect(qualityGate({ model: 'blend', metrics: metrics(0.58, 0.4) }, active(0.3), 10, 0.05).passed).toBe(
      true,
    );
  });
});

describe('co-occurrence result parsing', () => {
  it('groups neighbours by item in rank order', () => {
    const csv =
      '"item_id","neighbour_id","co","pair_count","cosine","chance","neighbour_rank"\n"a","c","1","1","0.2","0.1","2"\n"a","b","3","2","0.9","1.5","1"\n"b","a","3","2","0.9","1.5","1"\n';
    const m = parseCooccurrenceCsv(csv);
    expect(m.get('a')).toEqual([
      { id: 'b', score: 0.9 },
      { id: 'c', score: 0.2 },
    ]);
    expect(m.get('b')).toEqual([{ id: 'a', score: 0.9 }]);
  });
});
