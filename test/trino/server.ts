/**
 * Installs (through `scripts/setup-trino.sh`: Maven Central, cached under
 * `$HOME/.cache/shoplake/trino/`) and starts a single-node Trino on 127.0.0.1 with a free
 * port, with one Iceberg catalog on a file metastore:
 *  - `iceberg.catalog.type=TESTING_FILE_METASTORE` with its catalog under `<workDir>/warehouse`
 *    (the schemas and tables Trino creates live there, never in shoplake's lake);
 *  - local files through the native local file system (`local:///…`);
 *  - `system.register_table` enabled, so shoplake's own tables can be registered read-only at a
 *    pinned metadata file.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/engine/sql-files.ts';

export interface TrinoInstall {
  readonly home: string;
  readonly javaHome: string;
  readonly version: string;
}

export interface RunningTrino {
  readonly url: string;
  readonly pid: number;
  readonly warehouseDir: string;
  readonly logFile: string;
  readonly startMs: number;
  stop(): Promise<void>;
}

/** Runs the project's install script (downloads once, then only prints the paths). */
export function installTrino(): TrinoInstall {
  let out: string;
  try {
    out = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'setup-trino.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 15 * 60_000,
    });
  } catch (error: unknown) {
    throw new Error(
      `cannot install Trino with scripts/setup-trino.sh (Maven Central + a Java >= 24 are needed): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const value = (key: string) => {
    const line = out.split('\n').find((l) => l.startsWith(`${key}=`));
    if (!line) throw new Error(`scripts/setup-trino.sh printed no ${key}`);
    return line.slice(key.length + 1).trim();
  };
  const home = value('TRINO_HOME');
  const version = /trino-server-(\d+)/.exec(home)?.[1] ?? 'unknown';
  return { home, javaHome: value('TRINO_JAVA_HOME'), version };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts Trino and resolves once the coordinator accepts queries. */
export async function startTrino(
  install: TrinoInstall,
  workDir: string,
  options: { heap?: string; readyTimeoutMs?: number } = {},
): Promise<RunningTrino> {
  const started = performance.now();
  const etc = join(workDir, 'etc');
  const warehouseDir = join(workDir, 'warehouse');
  const dataDir = join(workDir, 'data');
  for (const d of [join(etc, 'catalog'), warehouseDir, dataDir]) mkdirSync(d, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(etc, 'node.properties'),
    [
      'node.environment=shoplake_test',
      `node.id=shoplake-${process.pid}-${port}`,
      `node.data-dir=${dataDir}`,
      'node.bind-ip=127.0.0.1',
      'node.internal-address=127.0.0.1',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(etc, 'jvm.config'),
    [
      '-server',
      `-Xmx${options.heap ?? '2G'}`,
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djdk.attach.allowAttachSelf=true',
      '-Dfile.encoding=UTF-8',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(etc, 'config.properties'),
    [
      'coordinator=true',
      'node-scheduler.include-coordinator=true',
      `http-server.http.port=${port}`,
      `discovery.uri=${url}`,
      'query.max-memory=1GB',
      'query.max-memory-per-node=1GB',
      'task.concurrency=2',
      'task.max-worker-threads=4',
      'catalog.management=static',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(etc, 'catalog', 'iceberg.properties'),
    [
      'connector.name=iceberg',
      'iceberg.catalog.type=TESTING_FILE_METASTORE',
      `hive.metastore.catalog.dir=local://${warehouseDir}`,
      'fs.native-local.enabled=true',
      'local.location=/',
      'iceberg.register-table-procedure.enabled=true',
      'iceberg.file-format=PARQUET',
      'iceberg.compression-codec=ZSTD',
      '',
    ].join('\n'),
  );
  const logFile = join(workDir, 'trino.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    join(install.home, 'bin', 'launcher'),
    ['run', `--etc-dir=${etc}`, `--data-dir=${dataDir}`],
    {
      env: {
        ...process.env,
        JAVA_HOME: install.javaHome,
        PATH: `${install.javaHome}/bin:${process.env.PATH ?? ''}`,
      },
      stdio: ['ignore', log, log],
      detached: true,
    },
  );
  const pid = child.pid ?? 0;
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${code ?? signal}`;
  });
  const stop = async () => {
    if (exited || pid === 0) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 15_000);
    await gone;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 240_000);
  for (;;) {
    if (exited) {
      throw new Error(`Trino ${exited} before it was ready; log ${logFile}:\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`${url}/v1/info`);
      if (res.ok) {
        const info = (await res.json()) as { starting?: boolean };
        if (info.starting === false) break;
      }
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `Trino was not ready within ${options.readyTimeoutMs ?? 240_000} ms; log ${logFile}:\n${tail(logFile)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { url, pid, warehouseDir, logFile, startMs: Math.round(performance.now() - started), stop };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(no log)';
  }
}
