/**
 * Lambda entry point of `POST /events` (API Gateway REST, proxy integration). Environment is
 * read once at init and fails fast:
 *  - `EVENTS_STREAM_NAME`  Kinesis stream receiving validated events,
 *  - `QUARANTINE_URI`      lake root for rejected events (`s3://bucket/` or `file:///dir/`).
 */
import { kinesisClient } from '../shared/aws-clients.ts';
import { requireEnv } from '../shared/env.ts';
import { createObjectStore } from '../shared/object-store.ts';
import { powertools } from '../shared/powertools.ts';
import { createIngestHandler } from './ingest.ts';

const { logger, metrics } = powertools('shoplake-ingest');

export const handler = createIngestHandler({
  kinesis: kinesisClient(),
  streamName: requireEnv('EVENTS_STREAM_NAME'),
  quarantine: createObjectStore(requireEnv('QUARANTINE_URI')),
  now: Date.now,
  logger,
  metrics,
});
