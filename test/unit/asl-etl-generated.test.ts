/**
 * `step-functions/etl.asl.json` is generated from the step list (`lambdas/etl/steps.ts`) by
 * `lambdas/etl/asl.ts`: the committed file must be exactly what the generator writes
 * (`npm run generate:etl` regenerates it), and the generator must reject malformed lists.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EtlStepListError, generateEtlDefinition, generateEtlDefinitionText } from '../../lambdas/etl/asl.ts';
import { ETL_DEFINITION_PATH } from '../../lambdas/etl/definition.ts';
import { ETL_STEPS, type EtlStep, etlTaskLambdas } from '../../lambdas/etl/steps.ts';

type State = {
  Type: string;
  Next?: string;
  End?: boolean;
  Branches?: { StartAt: string; States: Record<string, State> }[];
};

describe('generated ETL definition', () => {
  it('the committed step-functions/etl.asl.json equals the generator output (run `npm run generate:etl`)', () => {
    expect(readFileSync(ETL_DEFINITION_PATH, 'utf8')).toBe(generateEtlDefinitionText());
  });

  it('runs every step exactly once, independent gold steps in one Parallel state', () => {
    const def = generateEtlDefinition() as { States: Record<string, State> };
    const all: string[] = [];
    const walk = (states: Record<string, State>) => {
      for (const [name, s] of Object.entries(states)) {
        all.push(name);
        for (const b of s.Branches ?? []) walk(b.States);
      }
    };
    walk(def.States);
    for (const step of ETL_STEPS)
      expect(
        all.filter((n) => n === step.name),
        step.name,
      ).toHaveLength(1);
    const parallel = def.States.GoldSteps;
    expect(parallel?.Type).toBe('Parallel');
    const starts = (parallel?.Branches ?? []).map((b) => b.StartAt);
    expect(starts).toContain('GoldDailySales');
    expect(starts).toContain('GoldTopProductsDelete');
    // a delete → insert pair stays one branch, in order
    const topProducts = parallel?.Branches?.find((b) => b.StartAt === 'GoldTopProductsDelete');
    expect(topProducts?.States.GoldTopProductsDelete?.Next).toBe('GoldTopProductsInsert');
    expect(topProducts?.States.GoldTopProductsInsert?.End).toBe(true);
  });

  it('adding a step is one entry: a new independent gold step becomes a new branch', () => {
    const extra: EtlStep = {
      kind: 'sql',
      name: 'GoldDailySalesCopy',
      sql: 'etl_30_gold_daily_sales',
      params: ['run_id'],
      dependsOn: ['QualityGate'],
    };
    const def = generateEtlDefinition([...ETL_STEPS, extra]) as { States: Record<string, State> };
    expect(def.States.GoldSteps?.Branches?.map((b) => b.StartAt)).toContain('GoldDailySalesCopy');
  });

  it('rejects unknown dependencies, duplicate names and parameters the SQL file does not use', () => {
    const base = ETL_STEPS.slice(0, ETL_STEPS.findIndex((s) => s.name === 'Extract') + 1);
    const last = base.at(-1) as EtlStep;
    expect(last.name).toBe('Extract');
    expect(() => generateEtlDefinition([...base, { ...last, name: 'X', dependsOn: ['Nope'] }])).toThrow(
      EtlStepListError,
    );
    expect(() => generateEtlDefinition([...base, last])).toThrow(/appears twice/);
    expect(() =>
      generateEtlDefinition([
        ...base,
        {
          kind: 'sql',
          name: 'Y',
          sql: 'etl_30_gold_daily_sales',
          params: ['date_from'],
          dependsOn: ['Extract'],
        },
      ]),
    ).toThrow(/uses parameters \[run_id\]/);
  });

  it('generates the idle skip from the step list: ExtractSummary → Choice → CompleteRun, else MarkRun', () => {
    const def = generateEtlDefinition() as { States: Record<string, State & Record<string, unknown>> };
    expect(def.States.ExtractSummary?.Next).toBe('ExtractIdleChoice');
    const choice = def.States.ExtractIdleChoice as unknown as {
      Choices: { Next: string }[];
      Default: string;
    };
    expect(choice.Choices.map((c) => c.Next)).toEqual(['CompleteRun']);
    expect(choice.Default).toBe('MarkRun');
    const moved = ETL_STEPS.map((s) =>
      s.name === 'Extract' && s.kind === 'sql'
        ? { ...s, skipWhenIdle: { column: 'idle', to: 'RegisterRun' } }
        : s,
    );
    expect(() => generateEtlDefinition(moved)).toThrow(/jumps to RegisterRun, which is not a later step/);
    const twice = ETL_STEPS.map((s) =>
      s.name === 'QualityGate' && s.kind === 'sql'
        ? { ...s, skipWhenIdle: { column: 'idle', to: 'CompleteRun' } }
        : s,
    );
    expect(() => generateEtlDefinition(twice)).toThrow(/only one step/);
  });

  it('names its task Lambdas explicitly', () => {
    expect(etlTaskLambdas().map((l) => [l.key, l.entry])).toEqual([
      ['PrepareRunFunctionArn', 'etl/handler.ts'],
    ]);
  });
});
