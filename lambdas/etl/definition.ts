/**
 * The ETL state machine definition (`step-functions/etl.asl.json`) and its substitutions, for
 * the CDK stack (`DefinitionBody.fromFile` + `definitionSubstitutions`) and the local runner.
 *
 * SQL reaches Athena as the task's QueryString: each `${Sql_<file>}` placeholder is replaced by
 * the text of `athena/<file>.sql`, with logical table names mapped to the stage's Glue
 * databases and `:name` parameters turned into Athena's positional `?`. The task passes the
 * values as `ExecutionParameters` (literals prepared by PrepareRun), in the order the file
 * uses them — a unit test checks the definition against the files.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { qualifyNamespaces, splitStatements, toPositional } from '../shared/catalog/sql.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Path of the ETL definition file. */
export const ETL_DEFINITION_PATH = join(ROOT, 'step-functions', 'etl.asl.json');
/** Directory of the SQL files. */
export const SQL_DIR = join(ROOT, 'athena');

/** Substitution keys besides the `Sql_*` ones. */
export interface EtlResourceSubstitutions {
  /** Athena workgroup (enforces the results location and encryption). */
  readonly AthenaWorkGroup: string;
  /** ARN of the PrepareRun Lambda (`lambdas/etl/handler.ts`). */
  readonly PrepareRunFunctionArn: string;
  /** SNS topic notified when a run fails or maintenance is skipped. */
  readonly FailureTopicArn: string;
}

const SQL_KEY = /\$\{(Sql_[A-Za-z0-9_]+)\}/g;

/** `Sql_etl_11_silver_events` → `etl_11_silver_events.sql`. */
export function sqlFileOfKey(key: string): string {
  return `${key.replace(/^Sql_/, '')}.sql`;
}

/** The `${Sql_*}` keys the definition uses, in order of appearance. */
export function etlSqlKeys(definitionText = readFileSync(ETL_DEFINITION_PATH, 'utf8')): string[] {
  return [...new Set([...definitionText.matchAll(SQL_KEY)].map((m) => m[1] ?? ''))];
}

/** One SQL file as Athena runs it: physical names, `?` parameters and their names in order. */
export function athenaStatementOfFile(
  file: string,
  databasePrefix: string,
): { sql: string; parameters: string[] } {
  const statements = splitStatements(readFileSync(join(SQL_DIR, file), 'utf8'));
  if (statements.length !== 1) {
    throw new Error(`${file}: a state-machine task runs exactly one statement, found ${statements.length}`);
  }
  const positional = toPositional(qualifyNamespaces(statements[0] ?? '', databasePrefix));
  return { sql: positional.sql, parameters: positional.names };
}

/**
 * Every substitution the definition needs: the resources plus one `Sql_*` per SQL task
 * (JSON-string-escaped, since substitution happens inside JSON strings).
 */
export function etlDefinitionSubstitutions(
  resources: EtlResourceSubstitutions,
  options: { databasePrefix: string },
): Record<string, string> {
  const out: Record<string, string> = { ...resources };
  for (const key of etlSqlKeys()) {
    const { sql } = athenaStatementOfFile(sqlFileOfKey(key), options.databasePrefix);
    out[key] = JSON.stringify(sql).slice(1, -1);
  }
  return out;
}

/** Applies substitutions to a definition text (what CDK/CloudFormation do at deploy time). */
export function substituteDefinition(text: string, substitutions: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_whole, key: string) => {
    const v = substitutions[key];
    if (v === undefined) throw new Error(`no substitution for \${${key}} in the ETL definition`);
    return v;
  });
}
