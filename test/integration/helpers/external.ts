/**
 * External mode (`SHOPLAKE_EXTERNAL_AWS=1` + `AWS_ENDPOINT_URL`, e.g. LocalStack or an AWS
 * account): every test names its streams and tables with a prefix unique to the run and
 * deletes them afterwards, so runs on a shared endpoint never see each other's data.
 */
import { DeleteTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DeleteStreamCommand, KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export const EXTERNAL = process.env.SHOPLAKE_EXTERNAL_AWS === '1';

let counter = 0;

/** `shoplake-it-<tag>-<pid>-<time>-<n>`: unique per process and call (Kinesis/DynamoDB-safe). */
export function uniqueNamePrefix(tag: string): string {
  counter += 1;
  return `shoplake-it-${tag}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** The name prefix a test uses: unique in external mode, the given local default otherwise. */
export function testNamePrefix(tag: string, localDefault: string): string {
  return EXTERNAL ? uniqueNamePrefix(tag) : localDefault;
}

/**
 * Deletes every DynamoDB table and Kinesis stream at the external endpoint whose name starts
 * with `prefix`; returns the deleted names. A no-op outside external mode.
 */
export async function deleteExternalResources(prefix: string): Promise<string[]> {
  if (!EXTERNAL) return [];
  const env = process.env;
  const http = () => new NodeHttpHandler();
  const dynamo = new DynamoDBClient({
    requestHandler: http(),
    ...(env.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: env.AWS_ENDPOINT_URL_DYNAMODB } : {}),
  });
  const kinesis = new KinesisClient({
    requestHandler: http(),
    ...(env.AWS_ENDPOINT_URL_KINESIS ? { endpoint: env.AWS_ENDPOINT_URL_KINESIS } : {}),
  });
  const deleted: string[] = [];
  try {
    let start: string | undefined;
    do {
      const page = await dynamo.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
      for (const name of page.TableNames ?? []) {
        if (!name.startsWith(prefix)) continue;
        await dynamo.send(new DeleteTableCommand({ TableName: name }));
        deleted.push(name);
      }
      start = page.LastEvaluatedTableName;
    } while (start);
    let after: string | undefined;
    for (;;) {
      const page = await kinesis.send(new ListStreamsCommand({ ExclusiveStartStreamName: after }));
      const names = page.StreamNames ?? [];
      for (const name of names) {
        if (!name.startsWith(prefix)) continue;
        await kinesis.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true }));
        deleted.push(name);
      }
      if (!page.HasMoreStreams || names.length === 0) break;
      after = names[names.length - 1];
    }
  } finally {
    dynamo.destroy();
    kinesis.destroy();
  }
  return deleted;
}
