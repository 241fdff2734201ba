/** The lake table catalog and everything generated from it. */
export * from './glue.ts';
export * from './iceberg.ts';
export * from './local.ts';
export * from './tables.ts';
export * from './types.ts';
