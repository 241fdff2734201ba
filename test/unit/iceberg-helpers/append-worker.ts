// Child process of the Iceberg concurrency test: appends `count` small batches to one table
// through its own DuckDB instance and prints the commit results as JSON lines.
import { DuckDBInstance } from '@duckdb/node-api';
import { LocalIcebergCatalog } from '../../../local/iceberg/index.ts';

const [warehouse, ident, countText, tag] = process.argv.slice(2);
if (!warehouse || !ident || !countText || !tag) {
  process.stderr.write('usage: append-worker <warehouse> <ident> <count> <tag>\n');
  process.exit(2);
}
const instance = await DuckDBInstance.create(':memory:', {
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
  threads: '1',
});
const conn = await instance.connect();
const table = await new LocalIcebergCatalog(warehouse).loadTable(ident);
for (let i = 0; i < Number(countText); i++) {
  const r = await table.appendQuery(
    conn,
    `SELECT '${tag}_${i}_' || n AS event_id, TIMESTAMPTZ '2026-11-21 00:00:00+00' + to_hours(n) AS event_time FROM range(3) t(n)`,
  );
  process.stdout.write(
    `${JSON.stringify({ version: r.version, snapshotId: r.snapshotId, attempts: r.attempts })}\n`,
  );
}
conn.closeSync();
instance.closeSync();
