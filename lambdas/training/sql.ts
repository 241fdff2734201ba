/**
 * Execution parameters of the training SQL. The SQL itself reaches Athena as each task's
 * `QueryString` through the `${Sql_<file>}` definition substitution (see
 * `lambdas/etl/definition.ts`, applied by the processing stack and by the local runner), with
 * `:name` placeholders turned into positional `?`; the `Prepare` task supplies the values as
 * Athena literals in the order each file uses them. A unit test checks these orders against
 * the files.
 */
import { athenaLiteral } from '../shared/catalog/sql.ts';

/** Parameter names of each training SQL file, in order of appearance. */
export const TRAINING_SQL_PARAMETERS = {
  interactions: {
    file: 'reco_interactions.sql',
    names: ['model_version', 'since', 'w_view', 'w_cart', 'w_purchase'],
  },
  export: { file: 'reco_interactions_export.sql', names: ['model_version'] },
  cooccurrence: {
    file: 'reco_cooccurrence.sql',
    names: ['model_version', 'max_basket_items', 'min_pairs', 'neighbours'],
  },
} as const;
export type TrainingQuery = keyof typeof TRAINING_SQL_PARAMETERS;

export class MissingSqlParameterError extends Error {
  constructor(readonly parameter: string) {
    super(`missing value for SQL parameter :${parameter}`);
    this.name = 'MissingSqlParameterError';
  }
}

/** Athena `ExecutionParameters` of every training query, from named values. */
export function executionParameters(
  values: Readonly<Record<string, string | number>>,
): Record<TrainingQuery, string[]> {
  const one = (q: TrainingQuery) =>
    TRAINING_SQL_PARAMETERS[q].names.map((n) => {
      const v = values[n];
      if (v === undefined) throw new MissingSqlParameterError(n);
      return athenaLiteral(v);
    });
  return { interactions: one('interactions'), export: one('export'), cooccurrence: one('cooccurrence') };
}
