/**
 * In-process synthesis of the shoplake app, for the local runtime and the tests: the emulator
 * resources are created from exactly what `cdk deploy` would create (see
 * `local/runtime/provision.ts`), so tests and infrastructure cannot drift. Asset bundling is
 * skipped (`aws:cdk:bundling-stacks: []`), so no esbuild runs and a synth takes seconds.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildShoplake, type ShoplakeStacks } from './build-app.ts';
import { resolveStageConfig, type StageConfig } from './config/index.ts';
import { REPO_ROOT } from './constructs/paths.ts';

/** A CloudFormation template as synthesized (JSON). */
export interface CfnTemplateJson {
  readonly Resources: Record<
    string,
    { readonly Type: string; readonly Properties?: Record<string, unknown> } & Record<string, unknown>
  >;
  readonly Outputs?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface SynthesizeOptions {
  /** Stage name (`dev`, `prod`). @default 'dev' */
  readonly stage?: string;
  /** Extra CDK context (e.g. `{ quicksightPrincipalArn: '…' }`), as `-c key=value` would give. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Run the cdk-nag AwsSolutions pack (slower; the infra tests turn it on). @default false */
  readonly nag?: boolean;
  /** Keep the cloud assembly in this directory instead of a temporary one that is deleted. */
  readonly outdir?: string;
}

export interface SynthesizedApp {
  readonly config: StageConfig;
  /** Template per stack id (`Storage`, `Serving`, `Ingestion`, `Api`, `Processing`, `Observability`, `Bi`). */
  readonly templates: Readonly<Record<string, CfnTemplateJson>>;
  /**
   * All stacks' resources in one template (logical ids are unique across shoplake's stacks);
   * what `provisionFromTemplate` consumes.
   */
  readonly combined: CfnTemplateJson;
  readonly stacks: ShoplakeStacks;
}

/** The feature flags and defaults of `cdk.json`, so in-process apps behave like `cdk synth`. */
export function cdkJsonContext(): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8'));
  if (typeof parsed === 'object' && parsed !== null && 'context' in parsed) {
    const context = (parsed as { context: unknown }).context;
    if (typeof context === 'object' && context !== null) return { ...(context as Record<string, unknown>) };
  }
  return {};
}

/** Thrown when two stacks define the same logical id, which `combined` cannot represent. */
export class DuplicateLogicalIdError extends Error {
  constructor(readonly logicalId: string) {
    super(`logical id ${logicalId} exists in more than one stack; combined template would be ambiguous`);
    this.name = 'DuplicateLogicalIdError';
  }
}

/**
 * Builds and synthesizes the app for a stage without the CDK CLI and returns the templates.
 * Throws `StageConfigError` for a bad stage, and the validation report when nag is on and a
 * finding is not acknowledged.
 */
export function synthesizeApp(options: SynthesizeOptions = {}): SynthesizedApp {
  const outdir = options.outdir ?? mkdtempSync(join(tmpdir(), 'shoplake-synth-'));
  try {
    const app = new App({
      outdir,
      context: {
        ...cdkJsonContext(),
        stage: options.stage ?? 'dev',
        ...options.context,
        'aws:cdk:bundling-stacks': [],
      },
    });
    const config = resolveStageConfig((key) => app.node.tryGetContext(key));
    const stacks = buildShoplake(app, config, { nag: options.nag ?? false });
    const assembly = app.synth();
    const templates: Record<string, CfnTemplateJson> = {};
    const combined: Record<string, CfnTemplateJson['Resources'][string]> = {};
    for (const artifact of assembly.stacks) {
      const id = artifact.hierarchicalId;
      const template = artifact.template as CfnTemplateJson;
      templates[id] = template;
      for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
        if (Object.hasOwn(combined, logicalId)) throw new DuplicateLogicalIdError(logicalId);
        combined[logicalId] = resource;
      }
    }
    return { config, templates, combined: { Resources: combined }, stacks };
  } finally {
    if (options.outdir === undefined) rmSync(outdir, { recursive: true, force: true });
  }
}
