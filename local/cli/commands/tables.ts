/**
 * `shoplake tables`: the lake catalog with each table's current Iceberg snapshot, row count
 * and data files (local lake).
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
        reporter({ json: opts.json }).result({ tables }, () =>
          renderTable(
            tables.map((t) => ({ ...t, snapshot_id: t.snapshotId ?? '-' })),
            ['table', 'snapshot_id', 'rows', 'files', 'description'],
            1000,
          ),
        );
      } finally {
        await engine.close();
      }
    });
}
