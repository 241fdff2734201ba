/**
 * Lambda entry point of the analytics API on AWS: the analytics handler over Athena in the
 * stage's workgroup. Environment is read at init (a missing variable fails fast with its name).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { athenaClient } from '../shared/aws-clients.ts';
import { intEnv, requireEnv } from '../shared/env.ts';
import { powertools } from '../shared/powertools.ts';
import { createAnalyticsHandler } from './analytics.ts';
import { ATHENA_PORT_DEFAULTS, athenaQueryPort } from './athena-port.ts';

const workgroup = requireEnv('ATHENA_WORKGROUP');
const databasePrefix = requireEnv('GLUE_DATABASE_PREFIX');
const { logger } = powertools('analytics');

const handle = createAnalyticsHandler({
  port: athenaQueryPort({
    client: athenaClient(),
    workgroup,
    databasePrefix,
    resultReuseMinutes: intEnv('ANALYTICS_RESULT_REUSE_MINUTES', ATHENA_PORT_DEFAULTS.resultReuseMinutes),
    timeoutMs: intEnv('ANALYTICS_QUERY_TIMEOUT_MS', ATHENA_PORT_DEFAULTS.timeoutMs),
  }),
  log: (entry) => {
    const { message, level, ...rest } = entry;
    if (level === 'ERROR') logger.error(String(message), rest);
    else logger.warn(String(message), rest);
  },
});

export const handler = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => handle(event);
