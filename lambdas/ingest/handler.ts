/**
 * Lambda entry point of `POST /events` (API Gateway REST, proxy integration). Environment is
 * read once at init and fails fast:
 *  - `EVENTS_STREAM_NAME`  Kinesis stream receiving validated events,
 *  - `QUARANTINE_URI`      lake root for rejected events (`s3://bucket/` or `file:///dir/`),
 *  - `CORS_ALLOWED_ORIGINS` optional, comma-separated browser origins (lambdas/shared/cors.ts).
 */
import { kinesisClient } from '../shared/aws-clients.ts';
import { withCors } from '../shared/cors.ts';
import { requireEnv } from '../shared/env.ts';
import { createObjectStore } from '../shared/object-store.ts';
import { powertools } from '../shared/powertools.ts';
import { createIngestHandler } from './ingest.ts';

const { logger, metrics } = powertools('shoplake-ingest');

/** Browser clients: CORS headers for the origins in `CORS_ALLOWED_ORIGINS` (empty = no CORS). */
export const handler = withCors(
  createIngestHandler({
    kinesis: kinesisClient(),
    streamName: requireEnv('EVENTS_STREAM_NAME'),
    quarantine: createObjectStore(requireEnv('QUARANTINE_URI')),
    now: Date.now,
    logger,
    metrics,
  }),
);
