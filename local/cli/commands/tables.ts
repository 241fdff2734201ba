/**
 * `shoplake tables`: the lake catalog with each table's current Iceberg snapshot, row count
 * and data files (local lake). A table whose metadata cannot be read is listed as `damaged`
 * with the file at fault; the others are listed as usual. `--stage <name>` lists a deployed
 * stage's Glue tables instead, with each one's Iceberg metadata location and current snapshot.
 */
import type { Command } from 'commander';
import { deployedClients, deployedStageTables, destroyClients } from '../../deployed/stage.ts';
import { openLocalEngine } from '../../engine/open.ts';
import { reporter } from '../output.ts';
import { renderTable } from './query.ts';

export function register(program: Command): void {
  program
    .command('tables')
    .description('list the lake tables: current snapshot, rows, files')
    .option('--json', 'print as JSON on stdout')
    .option(
      '--stage <name>',
      'list the Glue tables of a deployed stage (AWS credentials from the environment)',
    )
    .action(async (opts: { json?: boolean; stage?: string }, cmd: Command) => {
      if (opts.stage) {
        const clients = deployedClients();
        try {
          const tables = await deployedStageTables(clients, opts.stage);
          reporter({ json: opts.json }).result({ stage: opts.stage, tables }, () =>
            [
              renderTable(
                tables.map((t) => ({
                  ...t,
                  snapshot_id: t.snapshotId ?? '-',
                  snapshot_at: t.snapshotAt ?? '-',
                  rows: t.rows ?? '-',
                  files: t.files ?? '-',
                  metadata_location: t.metadataLocation ?? '-',
                })),
                ['table', 'status', 'snapshot_id', 'snapshot_at', 'rows', 'files', 'metadata_location'],
                1000,
              ),
              ...tables
                .filter((t) => t.status === 'damaged')
                .map((t) => `DAMAGED ${t.table}: ${t.error ?? ''}`),
            ].join('\n'),
          );
        } finally {
          destroyClients(clients);
        }
        return;
      }
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
