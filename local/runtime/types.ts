/**
 * The contract of the local runtime (embedded default): what the CLI, the demo stages and the
 * integration tests get once emulators are up and resources are provisioned.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';

export interface LocalRuntime {
  /** Root of all local state (default `.shoplake/`). */
  readonly stateDir: string;
  /** Local lake root (`<stateDir>/lake`): landing, quarantine, Iceberg warehouse. */
  readonly lakeDir: string;
  /** Endpoints of the emulators, e.g. `http://127.0.0.1:41234`. */
  readonly endpoints: { readonly kinesis: string; readonly dynamodb: string };
  /** Physical names of the provisioned resources. */
  readonly names: {
    readonly eventsStream: string;
    readonly featuresTable: string;
    readonly recommendationsTable: string;
  };
  /**
   * Environment the Lambda handlers expect (AWS_ENDPOINT_URL_*, table/stream names,
   * QUARANTINE_URI, credentials for the emulators). Handlers read it at init.
   */
  readonly env: Readonly<Record<string, string>>;
  readonly clients: { readonly kinesis: KinesisClient; readonly dynamodb: DynamoDBClient };
  /** Resolves when every consumer has processed everything currently in the stream. */
  drain(options?: { timeoutMs?: number }): Promise<void>;
  /** Stops pollers, servers and emulators; state on disk stays. */
  stop(): Promise<void>;
}
