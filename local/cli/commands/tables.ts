/**
 * `shoplake tables`: the lake catalog with each table's current Iceberg snapshot, row count
 * and data files (local lake). A table whose metadata cannot be read is listed as `damaged`
 * with the file at fault; the others are listed as usual.
 */
import type { Command } from 'commander';
import { openLocalEngine } from '../../engine/open.ts';
import { reporter } from '../output.ts';
import { renderTable } from './query.ts';

export function register(program: Command): void {
  program
    .command('tables')
    .description('list the lake tables: current snapshot, rows, files')
    .option('--json', 'print as JSON on stdout')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { stateDir } = cmd.optsWithGlobals<{ stateDir: string }>();
      const engine = await openLocalEngine(stateDir);
      try {
        const tables = await engine.describeTables();
        const damaged = tables.filter((t) => t.status === 'damaged');
        reporter({ json: opts.json }).result({ tables }, () =>
          [
            renderTable(
              tables.map((t) => ({
                ...t,
                snapshot_id: t.snapshotId ?? '-',
                rows: t.rows ?? '-',
                files: t.files ?? '-',
              })),
              ['table', 'status', 'snapshot_id', 'rows', 'files', 'description'],
              1000,
            ),
            ...damaged.map((t) => `DAMAGED ${t.table}: ${t.error ?? ''}`),
          ].join('\n'),
        );
      } finally {
        await engine.close();
      }
    });
}
