/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route list (`api-routes.ts`) and
 * the zod schemas of each route (zod 4's `z.toJSONSchema`, JSON Schema 2020-12 as OpenAPI 3.1
 * uses it). Served at `GET /openapi.json` by the local server, committed as `docs/openapi.json`
 * (a test checks it is current) and used for the API Gateway models.
 */
import { z } from 'zod';
import {
  AnalyticsDatasetNameSchema,
  AnalyticsQuerySchema,
  AnalyticsResponseSchema,
} from './analytics/api-schema.ts';
import { ApiErrorSchema } from './api-errors.ts';
import { API_ROUTES, type ApiRoute } from './api-routes.ts';
import { ingestRequestJsonSchema } from './event-schema.ts';

type JsonObject = Record<string, unknown>;

const json = (schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonObject => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonObject;
  return rest;
};

const errorRef = { $ref: '#/components/schemas/Error' };
const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: errorRef } },
});

/** Response body of `POST /events`. */
export const IngestResponseSchema = z.object({
  accepted: z.number().int(),
  rejected: z.number().int(),
  failed: z.number().int(),
  results: z.array(
    z.object({
      index: z.number().int(),
      event_id: z.string().optional(),
      status: z.enum(['accepted', 'rejected', 'failed']),
      reason: z.string().optional(),
      detail: z.string().optional(),
    }),
  ),
});

/** Response body of the recommendation routes (items with scores, the answering model). */
export const RecommendationsResponseSchema = z
  .object({
    rec_id: z.string().describe('Id to send back with clicks (`<model version>:<12 hex>`)'),
    model_version: z.string().nullable().optional(),
    ab: z
      .object({
        experiment: z.string().describe('Running A/B test (send back as `ab_experiment` on the impression)'),
        arm: z.enum(['A', 'B']).describe('A = control, B = treatment (send back as `ab_arm`)'),
      })
      .nullable()
      .optional()
      .describe("The shopper's A/B arm while a test runs (user recommendations only), else null"),
  })
  .loose();

function parametersOf(route: ApiRoute): JsonObject[] {
  const path = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => {
    const name = m[1] ?? '';
    const schema =
      route.handler === 'analytics/handler.ts' ? json(AnalyticsDatasetNameSchema) : { type: 'string' };
    return { name, in: 'path', required: true, schema };
  });
  let query: JsonObject[];
  if (route.handler === 'analytics/handler.ts') {
    const props = json(AnalyticsQuerySchema, 'input').properties as Record<string, JsonObject>;
    query = Object.entries(props).map(([name, schema]) => ({
      name,
      in: 'query',
      required: false,
      description: schema.description,
      schema,
    }));
  } else {
    query = (route.queryParameters ?? []).map((name) => ({
      name,
      in: 'query',
      required: false,
      schema: { type: 'string' },
    }));
  }
  return [...path, ...query];
}

function operationOf(route: ApiRoute): JsonObject {
  const responses: JsonObject = {};
  if (route.handler === 'ingest/handler.ts') {
    responses['200'] = {
      description: 'Per-event outcome: accepted, rejected with a reason, or failed (retry)',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/IngestResponse' } } },
    };
    responses['400'] = errorResponse('Invalid request envelope');
    responses['413'] = errorResponse('Request body too large');
    responses['503'] = errorResponse('Nothing could be stored; retry later');
  } else if (route.handler === 'analytics/handler.ts') {
    responses['200'] = {
      description: 'One page of the data set',
      headers: {
        'x-next-token': {
          description: 'Continuation token when more rows follow',
          schema: { type: 'string' },
        },
      },
      content: {
        'application/json': { schema: { $ref: '#/components/schemas/AnalyticsResult' } },
        'text/csv': { schema: { type: 'string' } },
      },
    };
    responses['400'] = errorResponse('Invalid parameters or continuation token');
    responses['404'] = errorResponse('Unknown data set');
    responses['503'] = errorResponse('The query failed; retry later');
    responses['504'] = {
      ...errorResponse('The query is still running; retry after `Retry-After` seconds'),
      headers: { 'retry-after': { schema: { type: 'integer' } } },
    };
  } else {
    responses['200'] = {
      description: 'Recommended items',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/RecommendationsResponse' } } },
    };
    responses['400'] = errorResponse('Invalid parameters');
    responses['404'] = errorResponse('Unknown route or item');
    responses['503'] = errorResponse('Temporarily unavailable');
  }
  responses['403'] = errorResponse('Missing or invalid API key (API Gateway)');
  responses['429'] = errorResponse('Throttled by the usage plan (API Gateway)');
  // Answered by the HTTP front end before any handler runs (Node's server over 16 KB of
  // headers; API Gateway has its own header limits), so there is no error body.
  responses['431'] = { description: 'Request header fields too large (rejected before the handler)' };
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
    summary: route.description,
    parameters: parametersOf(route),
    ...(route.method === 'POST'
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/IngestRequest' } } },
          },
        }
      : {}),
    responses,
    security: [{ apiKey: [] }],
  };
}

/** The OpenAPI 3.1 document of every route. */
export function openApiDocument(): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of API_ROUTES) {
    const item = paths[route.path] ?? {};
    item[route.method.toLowerCase()] = operationOf(route);
    paths[route.path] = item;
  }
  const { $schema: _s, ...ingest } = ingestRequestJsonSchema();
  return {
    openapi: '3.1.0',
    info: {
      title: 'shoplake API',
      version: '1',
      description:
        'Event ingest, recommendations and the analytics API of shoplake. Every error body is `{"error": code, "message": text, "details"?: …}`.',
    },
    servers: [{ url: '/', description: 'local server (`shoplake serve`); on AWS the API Gateway stage URL' }],
    paths,
    components: {
      schemas: {
        Error: json(ApiErrorSchema),
        IngestRequest: ingest,
        IngestResponse: json(IngestResponseSchema),
        RecommendationsResponse: json(RecommendationsResponseSchema),
        AnalyticsResult: json(AnalyticsResponseSchema),
      },
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
    },
  };
}

/**
 * JSON Schemas (draft-04, what API Gateway models accept) of the response bodies, from the same
 * zod schemas as the OpenAPI document: the API stack's `Error` and `AnalyticsResult` models.
 */
export function apiGatewayModelSchemas(): Record<'Error' | 'AnalyticsResult', JsonObject> {
  const draft4 = (schema: z.ZodType): JsonObject => {
    const { $schema: _s, ...rest } = z.toJSONSchema(schema, {
      target: 'draft-04',
      unrepresentable: 'any',
    }) as JsonObject;
    return rest;
  };
  return { Error: draft4(ApiErrorSchema), AnalyticsResult: draft4(AnalyticsResponseSchema) };
}
