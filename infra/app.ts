/**
 * CDK entry point (`cdk.json` runs `npx tsx infra/app.ts`). The stage comes from
 * `-c stage=<dev|prod>`; a bad stage or configuration stops synthesis with a clear message.
 * Stacks are environment-agnostic unless the stage pins `env`, so `cdk synth` needs no
 * credentials and makes no context lookups.
 */
import { App } from 'aws-cdk-lib';
import { buildShoplake } from './build-app.ts';
import { resolveStageConfig, StageConfigError } from './config/index.ts';

const app = new App();
try {
  const config = resolveStageConfig((key) => app.node.tryGetContext(key));
  buildShoplake(app, config);
} catch (error: unknown) {
  if (error instanceof StageConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
app.synth();
