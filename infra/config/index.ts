/**
 * The stage registry: `-c stage=<name>` picks one of these. Extra context keys
 * (`-c quicksightPrincipalArn=…`, `-c notificationEmail=…`, `-c destroyOnRemoval=true`,
 * `-c glueTableOptimizers=false`) override single fields without editing the files, and go
 * through the same validation. `-c stageSuffix=<suffix>` deploys a separately named copy of a
 * stage (`dev` → `dev-<suffix>`: stack names, workgroup, every name derived from the stage), as
 * the LocalStack end-to-end tier does once per run. `-c sources='<JSON>'` replaces the stage's
 * batch sources (`{"oltp":{"jdbcUrl":…,"secret":…,"subnets":[…],"securityGroupIds":[…]}}`).
 */
import { dev } from './dev.ts';
import { prod } from './prod.ts';
import { type StageConfig, StageConfigError, validateStageConfig } from './stage-config.ts';

export const STAGES: Readonly<Record<string, StageConfig>> = { dev, prod };

/** Context keys that override one top-level field of the chosen stage. */
export const CONTEXT_OVERRIDES = ['quicksightPrincipalArn', 'notificationEmail', 'destroyOnRemoval'] as const;

/**
 * Resolves the stage configuration from CDK context values. Throws `StageConfigError` naming
 * the known stages when the stage is unknown, and every invalid field otherwise.
 */
export function resolveStageConfig(context: (key: string) => unknown): StageConfig {
  const stage = context('stage') ?? 'dev';
  if (typeof stage !== 'string' || !Object.hasOwn(STAGES, stage)) {
    throw new StageConfigError(String(stage), [
      `unknown stage; pass -c stage=<${Object.keys(STAGES).join('|')}> (stages live in infra/config/<stage>.ts)`,
    ]);
  }
  const base: Record<string, unknown> = { ...STAGES[stage] };
  for (const key of CONTEXT_OVERRIDES) {
    const value = context(key);
    if (value === undefined) continue;
    // The CLI passes -c values as strings; booleans arrive as 'true'/'false'.
    base[key] =
      key === 'destroyOnRemoval' && (value === 'true' || value === 'false') ? value === 'true' : value;
  }
  // Nested field: icebergMaintenance.glueTableOptimizers.
  const optimizers = context('glueTableOptimizers');
  if (optimizers !== undefined) {
    base.icebergMaintenance = {
      ...(STAGES[stage]?.icebergMaintenance ?? {}),
      glueTableOptimizers:
        optimizers === 'true' || optimizers === 'false' ? optimizers === 'true' : optimizers,
    };
  }
  const sources = context('sources');
  if (sources !== undefined) {
    if (typeof sources === 'string') {
      try {
        base.sources = JSON.parse(sources) as unknown;
      } catch {
        throw new StageConfigError(stage, ['sources: -c sources=… must be a JSON object']);
      }
    } else base.sources = sources;
  }
  const suffix = context('stageSuffix');
  if (suffix !== undefined && suffix !== '') base.stage = `${stage}-${String(suffix)}`;
  return validateStageConfig(stage, base);
}

export type { StageConfig } from './stage-config.ts';
export { StageConfigError, validateStageConfig } from './stage-config.ts';
