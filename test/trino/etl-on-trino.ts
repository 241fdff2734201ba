/**
 * Runs the ETL state machine (`step-functions/etl.asl.json`, substituted exactly as the local
 * runner and CDK do) with aws-local-stepfunctions, sending every Athena task to Trino instead
 * of DuckDB: the task's QueryString and ExecutionParameters become `EXECUTE IMMEDIATE … USING
 * …`, the maintenance statements their Trino equivalents. PrepareRun is the Lambda's own code.
 *
 * Bronze is registered read-only in this tier: a statement that would write a bronze table is
 * refused, and bronze maintenance is recorded as skipped (Trino must never commit into
 * shoplake's own tables; the same OPTIMIZE/VACUUM statements run on every silver/gold table).
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { parseRunInput, prepareRun } from '../../lambdas/etl/prepare-run.ts';
import { analyzeStatement } from '../../lambdas/shared/catalog/sql.ts';
import { type TrinoClient, trinoMaintenanceStatements, trinoStatement } from '../../local/engine/trino.ts';
import {
  collectStates,
  ephemeralLeaseStore,
  leaseTaskHandler,
  localEtlDefinition,
  type StateDef,
} from '../../local/sfn/etl-runner.ts';

export interface TrinoEtlStep {
  readonly state: string;
  /** What Trino ran (after translation). */
  readonly statements: readonly string[];
  readonly updateType?: string;
  readonly rows: number;
  readonly ms: number;
  readonly skipped?: string;
}

export interface TrinoEtlResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly steps: TrinoEtlStep[];
  readonly notifications: { subject: string; message: string }[];
  readonly error?: string;
  readonly output?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function cellText(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Tables a statement writes (by its analysis) or maintains (OPTIMIZE/VACUUM target). */
function writtenTable(sql: string): string | undefined {
  const maintenance = /^\s*(?:OPTIMIZE|VACUUM)\s+([A-Za-z0-9_.]+)/i.exec(sql);
  if (maintenance) return maintenance[1]?.toLowerCase();
  return analyzeStatement(sql).target;
}

export async function runEtlOnTrino(options: {
  client: TrinoClient;
  input: Record<string, unknown>;
  executionName: string;
  now: () => Date;
  onProgress?: (message: string) => void;
}): Promise<TrinoEtlResult> {
  const { client } = options;
  const progress = options.onProgress ?? (() => undefined);
  const definition = localEtlDefinition();
  const states = collectStates((definition.States ?? {}) as Record<string, StateDef>);
  const results = new Map<string, { columns: string[]; rows: Record<string, unknown>[] }>();
  const steps: TrinoEtlStep[] = [];
  const notifications: { subject: string; message: string }[] = [];
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const retryOverrides: Record<string, number> = {};
  let counter = 0;
  // The run lease's states (AcquireLease / ReleaseLease) on a private in-memory DynamoDB.
  const lease = await ephemeralLeaseStore();
  for (const [name, s] of states) {
    if (s.Retry) retryOverrides[name] = 0;
    if (s.Type !== 'Task' || !s.Resource) continue;
    if (s.Resource === 'arn:aws:states:::lambda:invoke') {
      handlers[name] = async (input) => {
        const payload = isObject(input) && isObject(input.Payload) ? input.Payload : {};
        const parsed = parseRunInput(payload.input);
        const executionName = typeof payload.executionName === 'string' ? payload.executionName : undefined;
        const ctx = prepareRun(executionName ? { ...parsed, executionName } : parsed, {
          now: options.now,
          databasePrefix: '',
        });
        return { StatusCode: 200, Payload: ctx };
      };
    } else if (s.Resource === 'arn:aws:states:::athena:startQueryExecution.sync') {
      handlers[name] = async (input) => {
        if (!isObject(input) || typeof input.QueryString !== 'string') {
          throw new Error(`${name}: task input has no QueryString`);
        }
        const sql = input.QueryString;
        const values = Array.isArray(input.ExecutionParameters) ? input.ExecutionParameters.map(String) : [];
        const id = `trino-${++counter}`;
        const target = writtenTable(sql);
        const t0 = performance.now();
        if (target?.startsWith('bronze.')) {
          if (/^\s*(OPTIMIZE|VACUUM)\b/i.test(sql)) {
            steps.push({
              state: name,
              statements: [],
              rows: 0,
              ms: 0,
              skipped: `${target} is read-only here`,
            });
            results.set(id, { columns: [], rows: [] });
            return { QueryExecution: { QueryExecutionId: id, Status: { State: 'SUCCEEDED' } } };
          }
          if (/^\s*DELETE\b/i.test(sql.replace(/^(\s*--[^\n]*\n)*/, '')) && values.length === 0) {
            // A retention delete (etl_71): Trino plans it (syntax, names, types checked) without
            // writing the read-only registered table.
            await client.execute(`EXPLAIN ${sql}`);
            steps.push({
              state: name,
              statements: [],
              rows: 0,
              ms: Math.round(performance.now() - t0),
              skipped: `${target} is read-only here: the DELETE was planned (EXPLAIN), not run`,
            });
            results.set(id, { columns: [], rows: [] });
            return { QueryExecution: { QueryExecutionId: id, Status: { State: 'SUCCEEDED' } } };
          }
          throw new Error(`${name} would write ${target}, which is registered read-only`);
        }
        const statements = trinoMaintenanceStatements(sql) ?? [trinoStatement(sql, values)];
        let last: Awaited<ReturnType<TrinoClient['execute']>> | undefined;
        for (const statement of statements) last = await client.execute(statement);
        const columns = (last?.columns ?? []).map((c) => c.name);
        const rows = last?.rows ?? [];
        results.set(id, { columns, rows });
        const step: TrinoEtlStep = {
          state: name,
          statements,
          ...(last?.updateType ? { updateType: last.updateType } : {}),
          rows: last?.updateCount ?? rows.length,
          ms: Math.round(performance.now() - t0),
        };
        steps.push(step);
        progress(`  trino ${name.padEnd(28)} ${String(step.rows).padStart(8)}  ${step.ms} ms`);
        return {
          QueryExecution: {
            QueryExecutionId: id,
            Query: sql,
            Status: { State: 'SUCCEEDED' },
            Statistics: { TotalExecutionTimeInMillis: step.ms },
          },
        };
      };
    } else if (s.Resource === 'arn:aws:states:::athena:getQueryResults') {
      handlers[name] = async (input) => {
        const id = isObject(input) ? String(input.QueryExecutionId ?? '') : '';
        const r = results.get(id);
        if (!r) throw new Error(`${name}: no Trino result ${id}`);
        return {
          ResultSet: {
            Rows: [
              { Data: r.columns.map((c) => ({ VarCharValue: c })) },
              ...r.rows.map((row) => ({
                Data: r.columns.map((c) => {
                  const text = cellText(row[c]);
                  return text === undefined ? {} : { VarCharValue: text };
                }),
              })),
            ],
            ResultSetMetadata: { ColumnInfo: r.columns.map((c) => ({ Name: c, Type: 'varchar' })) },
          },
        };
      };
    } else if (s.Resource === 'arn:aws:states:::sns:publish') {
      handlers[name] = async (input) => {
        notifications.push({
          subject: isObject(input) ? String(input.Subject ?? '') : '',
          message: isObject(input) ? String(input.Message ?? '') : '',
        });
        return { MessageId: `trino-${notifications.length}` };
      };
    } else if (leaseTaskHandler(s.Resource, lease)) {
      const handler = leaseTaskHandler(s.Resource, lease);
      if (handler) handlers[name] = handler;
    } else if (s.Resource === 'arn:aws:states:::glue:startJobRun.sync') {
      // Bronze is built on DuckDB and registered read-only here: PrepareRun is given no sources,
      // so the extract states are skipped; entering one is a bug of this tier.
      handlers[name] = async () => {
        throw new Error(`${name}: the Trino tier runs no extract job (bronze is read-only here)`);
      };
    } else {
      await lease.close();
      throw new Error(`no Trino-tier handler for task resource ${s.Resource} (state ${name})`);
    }
  }
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const execution = machine.run(options.input as never, {
    context: {
      Execution: {
        Id: `trino:${options.executionName}`,
        Name: options.executionName,
        StartTime: options.now().toISOString(),
      },
    } as never,
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: retryOverrides },
  });
  try {
    const output = await execution.result;
    return { status: 'SUCCEEDED', steps, notifications, output };
  } catch (error: unknown) {
    const note = notifications[notifications.length - 1];
    return {
      status: 'FAILED',
      steps,
      notifications,
      error: `${error instanceof Error ? error.message : String(error)}${note ? `: ${note.message}` : ''}`,
    };
  } finally {
    await lease.close();
  }
}
