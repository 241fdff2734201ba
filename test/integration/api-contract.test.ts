/**
 * API contract test: schemathesis (installed into .venv by scripts/setup-test-tools.sh) generates
 * requests for every operation of `docs/openapi.json` and sends them to `shoplake serve` on a lake
 * with a known gold layer. Bounded examples per operation and a fixed seed; it fails on any 5xx
 * and on any response whose status, content type or body the document does not describe.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAKE_PREFIXES } from '../../infra/definitions/resources.ts';
import { API_ROUTES } from '../../lambdas/shared/api-routes.ts';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';
import { lakeDirOf } from '../../local/engine/open.ts';
import { REPO_ROOT } from '../../local/engine/sql-files.ts';
import { loadGoldFixture } from '../fixtures/gold.ts';
import { type Served, serveLake } from './helpers/serve.ts';

const SCHEMATHESIS = join(REPO_ROOT, '.venv/bin/schemathesis');
/** Generated requests per operation (bounded so the tier stays within a minute). */
const MAX_EXAMPLES = 25;

if (!existsSync(SCHEMATHESIS)) {
  throw new Error(
    `${SCHEMATHESIS} is missing: run scripts/setup-test-tools.sh (pip install -r scripts/requirements-test.txt)`,
  );
}

describe('HTTP API against docs/openapi.json (schemathesis)', () => {
  let stateDir: string;
  let served: Served;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'shoplake-contract-'));
    const engine = await DuckdbEngine.open({
      warehouseDir: join(lakeDirOf(stateDir), LAKE_PREFIXES.warehouse),
    });
    try {
      await loadGoldFixture(engine);
    } finally {
      await engine.close();
    }
    served = await serveLake(stateDir);
  });

  afterAll(async () => {
    await served?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('no 5xx, and every response matches the document', async () => {
    let output = '';
    let code = 0;
    try {
      const { stdout, stderr } = await promisify(execFile)(
        SCHEMATHESIS,
        [
          'run',
          join(REPO_ROOT, 'docs/openapi.json'),
          '--url',
          served.url,
          '--checks',
          'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
          '--max-examples',
          String(MAX_EXAMPLES),
          '--phases',
          'examples,coverage,fuzzing',
          '--seed',
          '1',
          '--workers',
          '1',
          '--no-color',
        ],
        {
          timeout: 240_000,
          maxBuffer: 32 * 1024 * 1024,
          env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false' },
        },
      );
      output = stdout + stderr;
    } catch (error: unknown) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      code = typeof e.code === 'number' ? e.code : 1;
      output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    }
    expect(code, output.slice(-6_000)).toBe(0);
    expect(output).toContain(`Tested: ${API_ROUTES.length}`);
  });
});
