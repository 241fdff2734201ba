/**
 * Machine-learning tables (`ml` namespace), owned by the recommender. The catalog in
 * `tables.ts` appends these to `TABLES`, so they get Glue tables, Athena DDL and local
 * Iceberg tables like every other table. Field ids and conventions: see `tables.ts`.
 */
import type { TableSpec } from './types.ts';

/**
 * The interactions a model version was trained on, extracted from `silver.events` by
 * `athena/reco_interactions.sql`. One Iceberg snapshot per training run: the registry records
 * its snapshot id, so a model can be traced to (and retrained on) exactly its data.
 */
export const ML_INTERACTIONS: TableSpec = {
  namespace: 'ml',
  name: 'interactions',
  description: 'Shopper-item interactions per training run (model_version), extracted from silver.events',
  columns: [
    {
      id: 1,
      name: 'model_version',
      type: 'string',
      required: true,
      doc: 'Training run / candidate model version',
    },
    {
      id: 2,
      name: 'shopper',
      type: 'string',
      required: true,
      doc: 'user_id, or session:<session_id> for anonymous sessions',
    },
    { id: 3, name: 'item_id', type: 'string', required: true },
    { id: 4, name: 'event_type', type: 'string', required: true, doc: 'view | cart | purchase' },
    {
      id: 5,
      name: 'weight',
      type: 'double',
      required: true,
      doc: 'Event-type weight (view < cart < purchase)',
    },
    { id: 6, name: 'event_time', type: 'timestamptz', required: true },
    { id: 7, name: 'session_id', type: 'string', required: false },
    { id: 8, name: 'category', type: 'string', required: false },
  ],
  partitionSpec: [{ column: 'model_version', transform: 'identity', name: 'model_version' }],
  sortOrder: [],
  properties: {
    'format-version': '2',
    'write.format.default': 'parquet',
    'write.parquet.compression-codec': 'zstd',
    'history.expire.max-snapshot-age-ms': String(30 * 24 * 3600 * 1000),
    'history.expire.min-snapshots-to-keep': '10',
  },
  key: ['model_version', 'shopper', 'item_id', 'event_time', 'event_type'],
};

export const ML_TABLES: readonly TableSpec[] = [ML_INTERACTIONS];
