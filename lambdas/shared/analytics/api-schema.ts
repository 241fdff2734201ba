/**
 * Request and response schemas of `GET /analytics/{dataset}` (zod): the handler validates with
 * them and the OpenAPI document is generated from them.
 */
import { z } from 'zod';
import { ANALYTICS_DATASET_NAMES } from './datasets.ts';

/** Rows per page when `limit` is absent, and the most a page may hold (Athena's page size). */
export const DEFAULT_PAGE_ROWS = 1_000;
export const MAX_PAGE_ROWS = 1_000;

export const AnalyticsDatasetNameSchema = z
  .enum(ANALYTICS_DATASET_NAMES as [string, ...string[]])
  .describe('Data set name (lambdas/shared/analytics/datasets.ts)');

const MONTH_RE = /^\d{4}-(0[1-9]|1[0-2])$/;
const Month = z.string().regex(MONTH_RE, 'expected a month as YYYY-MM');

/** Query-string parameters of `GET /analytics/{dataset}` (also the OpenAPI parameters). */
export const AnalyticsQuerySchema = z
  .object({
    from: Month.optional().describe('First month, inclusive (YYYY-MM). Default: no lower bound'),
    to: Month.optional().describe('Last month, inclusive (YYYY-MM). Default: no upper bound'),
    category: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('Only this product category (data sets whose `params` include `category`)'),
    format: z.enum(['json', 'csv']).default('json').describe('Response format'),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_PAGE_ROWS)
      .default(DEFAULT_PAGE_ROWS)
      .describe('Rows per page'),
    next_token: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('Continuation token of the previous page (`next_token` / `x-next-token`)'),
  })
  .strict();

const ColumnSchema = z.object({
  name: z.string(),
  kind: z.enum(['date', 'string', 'integer', 'number', 'money', 'rate']),
  label: z.string(),
});

/** The JSON body of a successful answer. */
export const AnalyticsResponseSchema = z.object({
  dataset: z.string(),
  title: z.string(),
  params: z.object({ from: z.string(), to: z.string(), category: z.string().nullable() }),
  columns: z.array(ColumnSchema),
  rows: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))),
  next_token: z.string().optional().describe('Present when more rows follow'),
});
export type AnalyticsResponse = z.infer<typeof AnalyticsResponseSchema>;
