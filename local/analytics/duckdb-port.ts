/**
 * The analytics query port on the local DuckDB engine (`shoplake serve`): the same data-set SQL
 * the Athena port sends, run by the local engine with bound parameters. The cursor is the row
 * offset of the next page. Queries run one at a time (one DuckDB connection).
 */
import type { AnalyticsQueryPort } from '../../lambdas/analytics/analytics.ts';
import { AnalyticsCursorError } from '../../lambdas/analytics/analytics.ts';
import type { QueryEngine } from '../engine/types.ts';

export function duckdbQueryPort(engine: Pick<QueryEngine, 'query'>): AnalyticsQueryPort {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(run: () => Promise<T>): Promise<T> => {
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    async page(sql, params, limit, cursor) {
      const offset = cursor === undefined ? 0 : Number(cursor);
      if (!Number.isSafeInteger(offset) || offset < 0)
        throw new AnalyticsCursorError('next_token is not valid');
      const rows = await serial(() => engine.query(sql, params));
      const end = offset + limit;
      const page = rows.slice(offset, end);
      return end < rows.length ? { rows: page, cursor: String(end) } : { rows: page };
    },
  };
}
