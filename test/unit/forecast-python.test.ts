/**
 * The forecast model step's own tests (lambdas/forecast/py/tests: metrics on a hand-computed
 * case, the gate refusing a model that loses to seasonal naive, determinism for a seed, a weekday
 * the shop is closed on), run with
 * the project's forecast venv. Without it the test fails with the setup command to run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FORECAST_PYTHON_DIR, forecastPython } from '../../local/sfn/forecast-runner.ts';

describe('forecast model step (Python unittest)', () => {
  it('passes its metric, gate and determinism tests', () => {
    const python = forecastPython();
    expect(existsSync(python), `missing ${python}: run bash scripts/setup-forecast.sh`).toBe(true);
    const run = spawnSync(python, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v'], {
      cwd: FORECAST_PYTHON_DIR,
      env: { ...process.env, PYTHONWARNINGS: 'ignore' },
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/Ran 13 tests/);
    expect(run.stderr).toMatch(/test_gate_refuses_a_model_that_does_not_beat_seasonal_naive .*\.\.\. ok/);
  }, 320_000);
});
