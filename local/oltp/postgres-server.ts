/**
 * A PostgreSQL server of its own (Debian's `postgresql` binaries: initdb + pg_ctl) on
 * 127.0.0.1 and a free port, with its data directory under `dir`: what the Spark integration
 * tests and the extract benchmark run the Glue job code against. As root, the cluster runs as
 * the `postgres` system user (initdb refuses root).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PostgresServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => done(port));
    });
  });
}

function postgresUid(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root and there is no `postgres` user to run the PostgreSQL cluster as');
  }
}

/**
 * initdb + pg_ctl start in a new directory under `parentDir` (default the OS temp dir, which
 * the `postgres` user can reach when running as root); the database `shop` exists, user
 * `shoplake` (trust auth on 127.0.0.1). `stop()` stops the server and deletes the directory.
 */
export async function startPostgres(pgBin: string, parentDir: string = tmpdir()): Promise<PostgresServer> {
  const dir = mkdtempSync(join(parentDir, 'shoplake-pg-'));
  const data = join(dir, 'pgdata');
  const sock = join(dir, 'pgsock');
  mkdirSync(sock, { recursive: true });
  const owner = postgresUid();
  const run = (bin: string, args: string[]) => {
    const cmd = owner ? 'runuser' : join(pgBin, bin);
    const argv = owner ? ['-u', 'postgres', '--', join(pgBin, bin), ...args] : args;
    try {
      return execFileSync(cmd, argv, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      });
    } catch (error: unknown) {
      const e = error as { stderr?: string; stdout?: string };
      throw new Error(`${bin} ${args.join(' ')} failed: ${e.stderr ?? ''}${e.stdout ?? ''}`);
    }
  };
  if (owner) {
    chmodSync(dir, 0o755);
    chownSync(dir, owner.uid, owner.gid);
    chownSync(sock, owner.uid, owner.gid);
  }
  run('initdb', ['-D', data, '-U', 'shoplake', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  run('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'postgres.log'),
    '-w',
    '-o',
    `-p ${port} -k ${sock} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`,
    'start',
  ]);
  const base = `postgres://shoplake@127.0.0.1:${port}`;
  // createdb through the server's own binary dir.
  execFileSync(join(pgBin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'shoplake', 'shop']);
  return {
    url: `${base}/shop`,
    port,
    stop: async () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
