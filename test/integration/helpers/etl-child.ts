/**
 * Child process of the restartability tests: runs one local ETL execution on a lake directory
 * and SIGKILLs itself just before the task state named in argv[3] runs (a real crash), or
 * at the fault point named by `SHOPLAKE_FAULT_POINT` (inside a step; `local/fault-points.ts`).
 * Exits 0 when the run finished (no kill point reached), 1 when it failed.
 *
 *   tsx test/integration/helpers/etl-child.ts <lakeDir> <killBeforeState|-> <inputJson> <nowIso>
 */
import { join } from 'node:path';
import { DuckdbEngine } from '../../../local/engine/duckdb.ts';
import { runLocalEtl } from '../../../local/sfn/etl-runner.ts';

const [lake = '', killState = '-', inputJson = '{}', nowIso = ''] = process.argv.slice(2);
const engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
try {
  await runLocalEtl({
    engine,
    lakeDir: lake,
    input: JSON.parse(inputJson) as never,
    now: () => new Date(nowIso),
    beforeTask: (state) => {
      if (state === killState) process.kill(process.pid, 'SIGKILL');
    },
  });
  process.exitCode = 0;
} catch (error: unknown) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
} finally {
  await engine.close();
}
