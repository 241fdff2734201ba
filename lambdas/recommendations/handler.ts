/**
 * Lambda entry point of the recommendation API. Environment is read at init (a missing
 * variable fails fast with its name); clients are created once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { documentClient } from '../shared/aws-clients.ts';
import { intEnv, requireEnv } from '../shared/env.ts';
import { DynamoFeatureStore } from '../shared/features/dynamo-store.ts';
import { RecommendationStore } from '../shared/recommender/store.ts';
import {
  createRecommendationsHandler,
  DEFAULT_LIST_CACHE_ENTRIES,
  DEFAULT_TRENDING_CACHE_MS,
} from './recommendations.ts';

const recommendationsTable = requireEnv('RECOMMENDATIONS_TABLE_NAME');
const featuresTable = requireEnv('FEATURES_TABLE_NAME');
const logger = new Logger({ serviceName: 'recommendations' });
const client = documentClient();
// Per-container caches: the active model's item and popular lists (immutable once published)
// and live trending reads (shared by all shoppers for a second). 0 turns either off.
const listCacheEntries = intEnv('RECOMMENDATIONS_LIST_CACHE_ENTRIES', DEFAULT_LIST_CACHE_ENTRIES);
const trendingCacheMs = intEnv('RECOMMENDATIONS_TRENDING_CACHE_MS', DEFAULT_TRENDING_CACHE_MS);

const handle = createRecommendationsHandler({
  store: new RecommendationStore({ client, tableName: recommendationsTable, listCacheEntries }),
  features: new DynamoFeatureStore({ client, tableName: featuresTable }),
  trendingCacheMs,
  log: (entry) => {
    const { message, level, ...rest } = entry;
    if (level === 'ERROR') logger.error(String(message), rest);
    else logger.info(String(message), rest);
  },
});

export const handler = (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => handle(event);
