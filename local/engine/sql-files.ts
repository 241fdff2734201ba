/**
 * Loading SQL files of `athena/` for both engines: one place decides what counts as a file
 * argument and where relative paths resolve (the repository root).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitStatements } from '../../lambdas/shared/catalog/sql.ts';

/** Repository root (this file lives in `local/engine/`). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The `athena/` directory holding the ETL and training SQL. */
export const SQL_DIR = join(REPO_ROOT, 'athena');

export class SqlFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqlFileError';
  }
}

/** True for an argument that names an SQL file rather than holding SQL text. */
export function isSqlFileArgument(sqlOrFile: string): boolean {
  return /^[^\s;]+\.sql$/i.test(sqlOrFile.trim());
}

/** Absolute path of an SQL file argument (`athena/x.sql`, `x.sql` or absolute). */
export function resolveSqlFile(file: string): string {
  if (isAbsolute(file)) return file;
  const direct = join(REPO_ROOT, file);
  return file.includes('/') ? direct : join(SQL_DIR, file);
}

/** The statements of an SQL file, split on top-level semicolons. */
export function readSqlStatements(file: string): string[] {
  const path = resolveSqlFile(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error: unknown) {
    throw new SqlFileError(
      `cannot read SQL file ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const statements = splitStatements(text);
  if (statements.length === 0) throw new SqlFileError(`SQL file ${file} has no statement`);
  return statements;
}
