/**
 * `shoplake relocate`: makes a state directory that was moved (`mv`, copied to another
 * machine) usable again. Iceberg metadata records absolute `file://` locations, which every
 * Iceberg reader expects; this rewrites them, table by table, to the directory's new place
 * (see `local/iceberg/relocate.ts`). Safe to run twice; holds the state-directory claim.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { LAKE_PREFIXES } from '../../../infra/definitions/resources.ts';
import { lakeDirOf } from '../../engine/open.ts';
import { LocalIcebergCatalog } from '../../iceberg/catalog.ts';
import { relocateTable } from '../../iceberg/relocate.ts';
import { withStateDirClaim } from '../../runtime/state-dir.ts';
import { reporter } from '../output.ts';

/** Relocates every table of a state directory's lake; returns what was rewritten. */
export async function relocateStateDir(
  stateDir: string,
): Promise<{ table: string; from: string | undefined; files: number }[]> {
  const catalog = new LocalIcebergCatalog(join(lakeDirOf(stateDir), LAKE_PREFIXES.warehouse));
  const out: { table: string; from: string | undefined; files: number }[] = [];
  for (const ident of await catalog.listTables()) {
    const r = await relocateTable(catalog.tableDir(ident));
    out.push({ table: ident, from: r.from, files: r.filesRewritten });
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('relocate')
    .description('after moving the state directory: rewrite the lake metadata to its new location')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { stateDir } = cmd.optsWithGlobals<{ stateDir: string }>();
      const tables = await withStateDirClaim(stateDir, 'relocate', () => relocateStateDir(stateDir));
      const moved = tables.filter((t) => t.from !== undefined);
      reporter({ json: opts.json }).result({ tables, relocated: moved.length }, () =>
        moved.length === 0
          ? `all ${tables.length} tables already at their location`
          : `relocated ${moved.length} of ${tables.length} tables (from ${moved[0]?.from ?? ''} …), ${moved.reduce((n, t) => n + t.files, 0)} metadata files rewritten`,
      );
    });
}
