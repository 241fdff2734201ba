/**
 * Machine-learning tables (`ml` namespace), owned by the recommender. The catalog in
 * `tables.ts` appends these to `TABLES`, so they get Glue tables, Athena DDL and local
 * Iceberg tables like every other table. Field ids and conventions: see `tables.ts`.
 */
import type { TableSpec } from './types.ts';

export const ML_TABLES: readonly TableSpec[] = [];
