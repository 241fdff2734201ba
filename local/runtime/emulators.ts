/**
 * The in-process AWS API emulators of the embedded default: kinesalite (Kinesis) and dynalite
 * (DynamoDB), each an HTTP server on 127.0.0.1 with a random free port. With a data directory
 * their LevelDB state persists across runs (leveldown/classic-level ship prebuilt binaries, so
 * no native build is needed); without one they keep state in memory.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import { closeServer, listen } from './listen.ts';

export interface Emulator {
  readonly name: 'kinesis' | 'dynamodb';
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface EmulatorOptions {
  /** Directory for persisted state; omit for in-memory emulators. */
  readonly dataDir?: string;
}

/** `<dataDir>/<name>`, created, when state persists; undefined for in-memory emulators. */
function statePath(options: EmulatorOptions, name: Emulator['name']): string | undefined {
  if (!options.dataDir) return undefined;
  const path = join(options.dataDir, name);
  mkdirSync(path, { recursive: true });
  return path;
}

async function started(name: Emulator['name'], server: Server): Promise<Emulator> {
  const address = await listen(server, 0, '127.0.0.1');
  return { name, endpoint: `http://127.0.0.1:${address.port}`, close: () => closeServer(server) };
}

/** Starts kinesalite with instant stream state transitions. */
export async function startKinesisEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const path = statePath(options, 'kinesis');
  const server = kinesalite({
    ...(path ? { path } : {}),
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 100,
  });
  return started('kinesis', server);
}

/** Starts dynalite with instant table state transitions. */
export async function startDynamoDbEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const path = statePath(options, 'dynamodb');
  const server = dynalite({
    ...(path ? { path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  return started('dynamodb', server);
}
