/**
 * Every deployed Lambda, bundled the way the Lambda construct bundles it (esbuild, ESM, the
 * `require` banner), loads under Node with exactly the environment the stack gives it: module
 * init reads and checks its variables, so a variable the stack forgets or misnames fails here
 * instead of at the first invocation on AWS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { LAMBDAS_DIR } from '../../infra/constructs/paths.ts';
import {
  BUNDLE_MAIN_FIELDS,
  ESM_REQUIRE_BANNER,
  ShoplakeFunction,
} from '../../infra/constructs/shoplake-function.ts';
import { synth } from './helpers.ts';

const app = synth({ stage: 'dev' });
const outdir = mkdtempSync(join(tmpdir(), 'shoplake-bundles-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** A plausible value for an environment variable whose value is a CloudFormation token. */
function standIn(name: string): string {
  if (name.endsWith('_URI')) return 's3://shoplake-dev-lake-bucket/';
  if (name.endsWith('_TABLE_NAME')) return `shoplake-dev-${name.toLowerCase().replace(/_table_name$/, '')}`;
  if (name.endsWith('_STREAM_NAME')) return 'shoplake-dev-events';
  if (name === 'LAKE_BUCKET') return 'shoplake-dev-lake-bucket';
  return `stand-in-${name.toLowerCase()}`;
}

const functions = Object.values(app.stacks)
  .filter((s): s is NonNullable<typeof s> => s !== undefined)
  .flatMap((stack) =>
    stack.node.findAll().filter((c: IConstruct): c is ShoplakeFunction => c instanceof ShoplakeFunction),
  )
  .map((fn) => {
    const cfn = fn.function.node.defaultChild;
    if (!(cfn instanceof lambda.CfnFunction)) throw new Error(`${fn.node.path} has no CfnFunction`);
    const resolved = Stack.of(fn).resolve(cfn.environment) as
      | { variables?: Record<string, unknown> }
      | undefined;
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(resolved?.variables ?? {})) {
      env[name] = typeof value === 'string' ? value : standIn(name);
    }
    return { path: fn.node.path, entry: fn.entry, env };
  });

describe('Lambda bundles', () => {
  it('covers every function of the app', () => {
    expect(functions.length).toBe(
      Object.values(app.templates).reduce(
        (n, t) =>
          n +
          Object.entries(t.Resources).filter(
            // The Python forecast model step is not an esbuild bundle (test/infra/forecast.test.ts).
            ([id, r]) => r.Type === 'AWS::Lambda::Function' && !id.startsWith('ForecastModelFunction'),
          ).length,
        0,
      ),
    );
  });

  for (const fn of functions) {
    it(`${fn.path} (lambdas/${fn.entry}) bundles as ESM and initialises with its stack environment`, async () => {
      const outfile = join(outdir, `${fn.path.replaceAll('/', '_')}.mjs`);
      await build({
        entryPoints: [join(LAMBDAS_DIR, fn.entry)],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        mainFields: BUNDLE_MAIN_FIELDS,
        banner: { js: ESM_REQUIRE_BANNER },
        logLevel: 'silent',
      });
      const saved = { ...process.env };
      try {
        Object.assign(process.env, fn.env, {
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'x',
        });
        const mod = (await import(pathToFileURL(outfile).href)) as { handler?: unknown };
        expect(typeof mod.handler).toBe('function');
      } finally {
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
        Object.assign(process.env, saved);
      }
    });
  }
});
