/**
 * cfn-lint (AWS CloudFormation Linter, installed into .venv by scripts/setup-test-tools.sh)
 * on every synthesized template of dev, prod, dev with the BI stack and dev with batch sources
 * (Glue connections and jobs): zero errors.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/paths.ts';
import { synthesizeApp } from '../../infra/synth.ts';
import { QUICKSIGHT_PRINCIPAL, SOURCES_CONTEXT } from './helpers.ts';

const CFN_LINT = join(REPO_ROOT, '.venv', 'bin', 'cfn-lint');

/** Ensures cfn-lint exists (installs it the way `npm test` does) instead of silently skipping. */
function ensureCfnLint(): void {
  if (existsSync(CFN_LINT)) return;
  execFileSync('bash', [join(REPO_ROOT, 'scripts', 'setup-test-tools.sh')], {
    stdio: 'inherit',
    timeout: 600_000,
  });
}

interface LintFinding {
  Level: string;
  Message: string;
  Rule: { Id: string };
  Filename: string;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('cfn-lint', () => {
  for (const [label, options] of [
    ['dev', { stage: 'dev' }],
    ['prod', { stage: 'prod' }],
    ['dev with BI', { stage: 'dev', context: { quicksightPrincipalArn: QUICKSIGHT_PRINCIPAL } }],
    ['dev with the OLTP and marketing sources (Glue jobs)', { stage: 'dev', context: SOURCES_CONTEXT }],
  ] as const) {
    it(`reports no errors on the ${label} templates`, () => {
      ensureCfnLint();
      const outdir = mkdtempSync(join(tmpdir(), 'shoplake-cfnlint-'));
      dirs.push(outdir);
      synthesizeApp({ ...options, outdir });
      const templates = readdirSync(outdir)
        .filter((f) => f.endsWith('.template.json'))
        .map((f) => join(outdir, f));
      expect(templates.length).toBeGreaterThanOrEqual(6);
      const run = spawnSync(CFN_LINT, ['--format', 'json', '--regions', 'us-east-1', '--', ...templates], {
        encoding: 'utf8',
        timeout: 240_000,
      });
      expect(run.error).toBeUndefined();
      const findings = JSON.parse(run.stdout || '[]') as LintFinding[];
      const errors = findings.filter((f) => f.Level === 'Error');
      const warnings = findings.filter((f) => f.Level === 'Warning');
      if (warnings.length > 0) {
        process.stdout.write(
          `cfn-lint ${label}: ${warnings.length} warning(s)\n${warnings.map((w) => `  ${w.Rule.Id} ${w.Message}`).join('\n')}\n`,
        );
      }
      expect(errors.map((e) => `${e.Rule.Id} ${e.Filename.split('/').pop()}: ${e.Message}`)).toEqual([]);
    });
  }
});
