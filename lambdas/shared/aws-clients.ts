/**
 * SDK clients with shared retry/timeout settings, created once per module by the handlers.
 * Endpoints come from the standard `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` variables
 * (the SDK reads them itself), which is how the local runtime and LocalStack plug in.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export const CLIENT_DEFAULTS = {
  maxAttempts: 5,
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 10_000,
} as const;

/**
 * Retry and timeout settings every client shares (a fresh HTTP handler per client). Clients
 * built elsewhere with their own region/endpoint/credentials spread this in.
 */
export function clientConfig() {
  return {
    maxAttempts: CLIENT_DEFAULTS.maxAttempts,
    // HTTP/1.1 handler: Kinesis defaults to HTTP/2, which the emulators do not speak.
    requestHandler: new NodeHttpHandler({
      connectionTimeout: CLIENT_DEFAULTS.connectionTimeoutMs,
      requestTimeout: CLIENT_DEFAULTS.requestTimeoutMs,
    }),
  };
}

export const kinesisClient = () => new KinesisClient(clientConfig());
export const dynamoClient = () => new DynamoDBClient(clientConfig());
export const documentClient = (client: DynamoDBClient = dynamoClient()) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
export const s3Client = () =>
  new S3Client({ ...clientConfig(), requestChecksumCalculation: 'WHEN_REQUIRED' });
export const athenaClient = () => new AthenaClient(clientConfig());
