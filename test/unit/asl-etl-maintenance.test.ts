/**
 * The ETL's maintenance choice: Iceberg maintenance runs once. With `glueTableOptimizers: true`
 * in the execution input (the deployed schedule passes it when the stage enables Glue table
 * optimizers) the Athena OPTIMIZE/VACUUM Map is skipped; any other input (local runs, manual
 * runs, stages without optimizers) runs it. The real Choice and Pass states of
 * `step-functions/etl.asl.json` run on aws-local-stepfunctions, with the Map and the lease
 * release replaced by markers.
 */
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { ETL_DEFINITION_PATH } from '../../lambdas/etl/definition.ts';

type AslState = Record<string, unknown> & { Type: string; Next?: string; Default?: string };
const definition = JSON.parse(readFileSync(ETL_DEFINITION_PATH, 'utf8')) as {
  States: Record<string, AslState>;
};

function state(name: string): AslState {
  const s = definition.States[name];
  if (!s) throw new Error(`etl.asl.json has no state ${name}`);
  return s;
}

/** The definition's own choice and pass, ending in markers instead of the Map / Succeed. */
async function pathFor(input: Record<string, unknown>): Promise<unknown> {
  const machine = new StateMachine(
    {
      StartAt: 'MaintenanceChoice',
      States: {
        MaintenanceChoice: state('MaintenanceChoice'),
        MaintenanceByGlueOptimizers: state('MaintenanceByGlueOptimizers'),
        MaintenanceSkippedIdle: { Type: 'Pass', Result: 'idle-no-maintenance', End: true },
        Maintenance: { Type: 'Pass', Result: 'athena-optimize-vacuum', End: true },
        ReleaseLease: { Type: 'Pass', Result: 'glue-optimizers', End: true },
      },
    } as never,
    { validationOptions: { checkArn: true, checkPaths: true } },
  );
  return machine.run(input as never).result;
}

describe('ETL maintenance choice (Glue optimizers vs. Athena OPTIMIZE/VACUUM)', () => {
  it('follows gold and defaults to the Athena maintenance Map', () => {
    expect(Object.values(definition.States).filter((s) => s.Next === 'MaintenanceChoice')).toHaveLength(1);
    expect(state('MaintenanceChoice').Default).toBe('Maintenance');
    expect(state('Maintenance').Type).toBe('Map');
    expect(state('MaintenanceByGlueOptimizers').Next).toBe('ReleaseLease');
    expect(state('Maintenance').Next).toBe('ReleaseLease');
    expect(state('ReleaseLease').Next).toBe('Succeeded');
    expect(state('Succeeded').Type).toBe('Succeed');
  });

  it('skips OPTIMIZE/VACUUM only when the input says Glue optimizers maintain the tables', async () => {
    await expect(pathFor({ glueTableOptimizers: true, trigger: 'schedule' })).resolves.toBe(
      'glue-optimizers',
    );
    await expect(pathFor({})).resolves.toBe('athena-optimize-vacuum');
    await expect(pathFor({ glueTableOptimizers: false })).resolves.toBe('athena-optimize-vacuum');
    // A string is not a boolean: no silent skip of maintenance.
    await expect(pathFor({ glueTableOptimizers: 'true' })).resolves.toBe('athena-optimize-vacuum');
  });

  it('skips maintenance after an idle run (nothing written), and only then', async () => {
    expect(state('MaintenanceSkippedIdle').Next).toBe('ReleaseLease');
    const summary = (header: string, value: string) => ({
      extract_summary: {
        Rows: [{ Data: [{ VarCharValue: header }] }, { Data: [{ VarCharValue: value }] }],
      },
    });
    await expect(pathFor(summary('idle', 'true'))).resolves.toBe('idle-no-maintenance');
    await expect(pathFor({ ...summary('idle', 'true'), glueTableOptimizers: true })).resolves.toBe(
      'idle-no-maintenance',
    );
    await expect(pathFor(summary('idle', 'false'))).resolves.toBe('athena-optimize-vacuum');
    // A result whose first column is not `idle` (a reordered SELECT) never skips.
    await expect(pathFor(summary('bronze_rows', 'true'))).resolves.toBe('athena-optimize-vacuum');
    await expect(pathFor({ extract_summary: { Rows: [{ Data: [{}] }] } })).resolves.toBe(
      'athena-optimize-vacuum',
    );
  });
});
