/**
 * Releases the ETL run lease of an execution that ended without running its own release
 * states: EventBridge invokes this handler on the ETL state machine's TIMED_OUT / ABORTED (and,
 * as a backstop, FAILED) status changes. The delete is conditional on the execution that holds
 * the lease, so it never frees a lease another execution acquired since. Env:
 * `ETL_LEASE_TABLE_NAME`.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { dynamoClient } from '../shared/aws-clients.ts';
import { requireEnv } from '../shared/env.ts';
import { ETL_LEASE_ID } from './prepare-run.ts';

export interface ExecutionStatusChange {
  readonly detail?: { readonly executionArn?: string; readonly status?: string };
}

/** Deletes the lock item if `executionArn` holds it; returns whether it did. */
export async function releaseLease(
  client: DynamoDBClient,
  tableName: string,
  executionArn: string,
): Promise<boolean> {
  try {
    await client.send(
      new DeleteItemCommand({
        TableName: tableName,
        Key: { lock_id: { S: ETL_LEASE_ID } },
        ConditionExpression: 'execution_id = :execution',
        ExpressionAttributeValues: { ':execution': { S: executionArn } },
      }),
    );
    return true;
  } catch (error: unknown) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

let client: DynamoDBClient | undefined;

export async function handler(event: ExecutionStatusChange): Promise<{ released: boolean }> {
  const arn = event.detail?.executionArn;
  if (!arn) return { released: false };
  client ??= dynamoClient();
  return { released: await releaseLease(client, requireEnv('ETL_LEASE_TABLE_NAME'), arn) };
}
