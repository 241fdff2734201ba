/**
 * Lambda entry point of the recommendation API. Environment is read at init (a missing
 * variable fails fast with its name); clients are created once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { documentClient } from '../shared/aws-clients.ts';
import { requireEnv } from '../shared/env.ts';
import { DynamoFeatureStore } from '../shared/features/dynamo-store.ts';
import { RecommendationStore } from '../shared/recommender/store.ts';
import { createRecommendationsHandler } from './recommendations.ts';

const recommendationsTable = requireEnv('RECOMMENDATIONS_TABLE_NAME');
const featuresTable = requireEnv('FEATURES_TABLE_NAME');
const logger = new Logger({ serviceName: 'recommendations' });
const client = documentClient();

const handle = createRecommendationsHandler({
  store: new RecommendationStore({ client, tableName: recommendationsTable }),
  features: new DynamoFeatureStore({ client, tableName: featuresTable }),
  log: (entry) => {
    const { message, level, ...rest } = entry;
    if (level === 'ERROR') logger.error(String(message), rest);
    else logger.info(String(message), rest);
  },
});

export const handler = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => handle(event);
