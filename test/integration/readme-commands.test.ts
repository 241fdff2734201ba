/**
 * The README stays true: every command in its ```bash / ```sh code blocks is run, verbatim and
 * in README order, by `bash` in the repository root on one temporary state directory
 * (`SHOPLAKE_STATE_DIR`), and must succeed. The only exceptions are listed in SKIPPED below,
 * each with its reason, printed at run time; the list must match the README exactly (a skipped
 * command that is no longer in the README, or a new command that is neither run nor listed,
 * fails the test).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Commands not run, with why. Keys are the commands as `readmeCommands` extracts them. */
const SKIPPED: Record<string, string> = {
  'npm install && npm run demo': 'ends in `shoplake serve`, which runs until stopped',
  'npm install && npm test': 'the whole test suite (this test is part of it)',
  'npx shoplake demo': 'ends in `shoplake serve`, which runs until stopped',
  'npx shoplake demo --events 6000 --days 120': 'ends in `shoplake serve`, which runs until stopped',
  'npx shoplake etl --oltp postgres://u:p@host:5432/shop':
    'a placeholder PostgreSQL URL; needs a PostgreSQL server and local Spark (the spark test project runs it)',
  'npx vitest run --project spark': 'a test suite (PostgreSQL + Spark, minutes) run separately',
  '~/.cache/shoplake/spark/venv/bin/python -m pytest glue-jobs/tests':
    'Python tests in the Spark virtualenv scripts/setup-spark-pg.sh installs; run separately',
  'npx shoplake models ab start --control V1 --treatment V2 --split 0.5':
    'needs two published model versions; on the README lake the sample-sized retrains are refused by the gate, so there is one (test/integration/reco-ab.test.ts runs it)',
  'npx shoplake serve --port 3000':
    'a server that runs until stopped (test/unit/http-server.test.ts, api-contract)',
  'npx shoplake serve': 'a server that runs until stopped (test/unit/http-server.test.ts, api-contract)',
  'bash scripts/localstack/install.sh': 'installs LocalStack (minutes; the LocalStack tier runs it)',
  'eval "$(bash scripts/localstack/start.sh)"': 'needs LocalStack',
  'export SHOPLAKE_EXTERNAL_AWS=1': 'switches to LocalStack / AWS',
  'npx shoplake demo --no-serve': 'in the LocalStack block: needs LocalStack',
  'npm run test:integration': 'a test suite (this test is part of it)',
  'bash scripts/localstack/stop.sh': 'needs LocalStack',
  'npm install': 'in the deploy block; the test run already installed the packages',
  'npx cdk bootstrap aws://ACCOUNT_ID/REGION': 'needs an AWS account',
  'npx cdk deploy --all -c stage=dev': 'needs an AWS account',
  'aws apigateway get-api-key --api-key <WriteApiKeyId output> --include-value': 'needs an AWS account',
  'npm test': 'the whole test suite (this test is part of it)',
  'npm run test:unit': 'a test suite run separately',
  'npm run test:infra': 'a test suite run separately',
  'npm run test:localstack': 'deploys to LocalStack (minutes)',
  'npm run test:trino': 'installs and starts Trino (minutes)',
  'npm run bench': 'benchmarks: minutes, and figures only mean something on a quiet machine',
  'npx shoplake forecast train':
    'needs months of daily sales history; the README lake holds 300 sample events (test/integration/forecast-e2e.test.ts trains on generated history)',
  'npx shoplake forecast --horizon 7 --json':
    'needs a trained forecast model (see forecast train; test/integration/forecast-e2e.test.ts runs it)',
  'npx shoplake forecast --category Cookware --horizon 7':
    'needs a trained forecast model (see forecast train; test/integration/forecast-e2e.test.ts runs it)',
  'npx shoplake forecast backtest':
    'needs months of daily sales history (bench/forecast.bench.ts and forecast-e2e run it on generated history)',
  'npx shoplake tables --stage dev':
    'needs a deployed stage and AWS credentials (test/unit/deployed-stage.test.ts runs it against an HTTP stub)',
  'npx shoplake etl --stage dev':
    'needs a deployed stage and AWS credentials (test/unit/deployed-stage.test.ts runs it against an HTTP stub)',
};

/**
 * Commands whose README line carries a placeholder: the test fills it from the state the
 * earlier commands built.
 */
const PLACEHOLDERS: Record<string, (state: string) => Promise<string>> = {
  'npx shoplake models rollback VERSION': async (state) => {
    const r = await run(`npx shoplake models --json`, state);
    const { versions } = JSON.parse(r.stdout) as { versions: { version: string; status: string }[] };
    const target = versions.find((v) => ['published', 'active', 'retired'].includes(v.status));
    if (!target) throw new Error(`no published model to roll back to after the README's train: ${r.stdout}`);
    return `npx shoplake models rollback ${target.version}`;
  },
};

/** Outcomes other than exit 0 that the README documents for a command. */
const ALSO_ACCEPTED: Record<string, { code: number; stderr: RegExp; why: string }> = {
  'npx shoplake train': {
    code: 1,
    stderr: /training failed: QualityGateRejected: /,
    why: 'the README says train exits 1 when its quality gate refuses the model (it depends on the data so far)',
  },
};

/** Strips a trailing `# comment` that is outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(0, i);
  }
  return line;
}

/** The commands of the README's shell code blocks: continuation lines joined, comments dropped. */
function readmeCommands(markdown: string): { command: string; line: number }[] {
  const out: { command: string; line: number }[] = [];
  const lines = markdown.split('\n');
  let inBlock = false;
  let pending = '';
  let pendingLine = 0;
  lines.forEach((raw, i) => {
    if (/^```(bash|sh|shell)\s*$/.test(raw)) {
      inBlock = true;
      return;
    }
    if (inBlock && /^```\s*$/.test(raw)) {
      inBlock = false;
      return;
    }
    if (!inBlock) return;
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '') return;
    if (pending === '') pendingLine = i + 1;
    if (text.endsWith('\\')) {
      pending += `${text.slice(0, -1).trim()} `;
      return;
    }
    out.push({ command: `${pending}${text.trim()}`.replace(/\s+/g, ' '), line: pendingLine });
    pending = '';
  });
  return out;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(command: string, stateDir: string, timeoutMs = 600_000): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], {
      cwd: ROOT,
      // npm_config_yes=false: npx runs the repository's own bin and never fetches a package.
      env: { ...process.env, SHOPLAKE_STATE_DIR: stateDir, npm_config_yes: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command}: no answer after ${timeoutMs} ms\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('README commands', () => {
  const commands = readmeCommands(README);
  const stateDir = mkdtempSync(join(tmpdir(), 'shoplake-readme-'));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('extracts commands the way a reader sees them', () => {
    expect(
      readmeCommands(
        '```bash\nnpx a --x 1   # note\n     # more note\nnpx b "q # not a comment" \\\n   --y 2\n```\n```\nnot shell\n```',
      ),
    ).toEqual([
      { command: 'npx a --x 1', line: 2 },
      { command: 'npx b "q # not a comment" --y 2', line: 4 },
    ]);
  });

  it('lists exactly the skipped commands the README has', () => {
    const inReadme = new Set(commands.map((c) => c.command));
    expect(Object.keys(SKIPPED).filter((c) => !inReadme.has(c))).toEqual([]);
    expect(commands.length - commands.filter((c) => c.command in SKIPPED).length).toBeGreaterThan(10);
  });

  it('runs every other command, in order, on one state directory', { timeout: 3_600_000 }, async () => {
    const skipped = commands.filter((c) => c.command in SKIPPED);
    console.warn(
      `README commands not run (${skipped.length}):\n${skipped
        .map((c) => `  README.md:${c.line}  ${c.command}\n      reason: ${SKIPPED[c.command]}`)
        .join('\n')}`,
    );
    const ran: string[] = [];
    for (const { command, line } of commands) {
      if (command in SKIPPED) continue;
      const placeholder = PLACEHOLDERS[command];
      const actual = placeholder ? await placeholder(stateDir) : command;
      const r = await run(actual, stateDir);
      const accepted = ALSO_ACCEPTED[command];
      const ok =
        r.code === 0 ||
        (accepted !== undefined && r.code === accepted.code && accepted.stderr.test(r.stderr));
      ran.push(`README.md:${line} exit ${r.code} in ${(r.ms / 1000).toFixed(1)} s  ${actual}`);
      expect(
        ok,
        `README.md:${line}: \`${actual}\` exited ${r.code}\n--- stderr (end) ---\n${r.stderr.slice(-3000)}\n--- stdout (end) ---\n${r.stdout.slice(-1500)}`,
      ).toBe(true);
      // Commands that print JSON print one valid document.
      if (/(^|\s)--json(\s|$)/.test(actual) && r.code === 0)
        expect(() => JSON.parse(r.stdout), actual).not.toThrow();
    }
    console.warn(`README commands run (${ran.length}):\n  ${ran.join('\n  ')}`);
    expect(ran.length).toBeGreaterThan(10);
  });
});
