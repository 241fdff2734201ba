/**
 * Integration-test global set-up: synthesizes the CDK app once (bundling skipped) and points
 * the local runtime at the combined template through `SHOPLAKE_TEMPLATE_FILE`, so every
 * integration test creates its emulator resources from the synthesized CloudFormation
 * (SPEC design rule 6: tests and infrastructure cannot drift).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default async function setup(): Promise<() => void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { synthesizeApp } = await import('../../infra/synth.ts');
  const app = synthesizeApp({ stage: 'dev' });
  const dir = mkdtempSync(join(tmpdir(), 'shoplake-template-'));
  const file = join(dir, 'combined.template.json');
  writeFileSync(file, JSON.stringify(app.combined));
  process.env.SHOPLAKE_TEMPLATE_FILE = file;
  return () => rmSync(dir, { recursive: true, force: true });
}
