/**
 * The in-process AWS API emulators of the embedded default: kinesalite (Kinesis) and dynalite
 * (DynamoDB), each an HTTP server on 127.0.0.1 with a random free port. With a data directory
 * their LevelDB state persists across runs (leveldown/classic-level ship prebuilt binaries, so
 * no native build is needed); without one they keep state in memory.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';

export interface Emulator {
  readonly name: 'kinesis' | 'dynamodb';
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface EmulatorOptions {
  /** Directory for persisted state; omit for in-memory emulators. */
  readonly dataDir?: string;
}

async function listen(server: Server): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('emulator did not bind a TCP port');
  return address;
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
}

/** Starts kinesalite with instant stream state transitions. */
export async function startKinesisEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  let path: string | undefined;
  if (options.dataDir) {
    path = join(options.dataDir, 'kinesis');
    mkdirSync(path, { recursive: true });
  }
  const server = kinesalite({
    ...(path ? { path } : {}),
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 100,
  });
  const address = await listen(server);
  return { name: 'kinesis', endpoint: `http://127.0.0.1:${address.port}`, close: closer(server) };
}

/** Starts dynalite with instant table state transitions. */
export async function startDynamoDbEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  let path: string | undefined;
  if (options.dataDir) {
    path = join(options.dataDir, 'dynamodb');
    mkdirSync(path, { recursive: true });
  }
  const server = dynalite({
    ...(path ? { path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const address = await listen(server);
  return { name: 'dynamodb', endpoint: `http://127.0.0.1:${address.port}`, close: closer(server) };
}
