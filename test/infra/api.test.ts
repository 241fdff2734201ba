/** The public REST API: routes from api-routes.ts, API keys on every method, validation, caching. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { API_MODEL_SCHEMA, API_STAGE_NAME, pathParameters } from '../../infra/stacks/api-stack.ts';
import { API_ROUTES } from '../../lambdas/shared/api-routes.ts';
import { ingestRequestJsonSchema } from '../../lambdas/shared/event-schema.ts';
import { resourcesOfType, synth, template } from './helpers.ts';

const dev = synth({ stage: 'dev' });
const prod = synth({ stage: 'prod' });

/** Full path of each API Gateway resource logical id. */
function resourcePaths(app: typeof dev): Map<string, string> {
  const resources = resourcesOfType(app, 'AWS::ApiGateway::Resource');
  const paths = new Map<string, string>();
  const resolve = (logicalId: string): string => {
    const known = paths.get(logicalId);
    if (known) return known;
    const r = resources.find((x) => x.logicalId === logicalId);
    if (!r) return '';
    const parent = r.properties.ParentId as { Ref?: string };
    const parentPath = parent.Ref ? resolve(parent.Ref) : '';
    const path = `${parentPath}/${String(r.properties.PathPart)}`;
    paths.set(logicalId, path);
    return path;
  };
  for (const r of resources) resolve(r.logicalId);
  return paths;
}

function methods(app: typeof dev) {
  const paths = resourcePaths(app);
  return resourcesOfType(app, 'AWS::ApiGateway::Method').map((m) => {
    const ref = (m.properties.ResourceId as { Ref?: string }).Ref;
    return { ...m, path: ref ? (paths.get(ref) ?? '/') : '/', method: String(m.properties.HttpMethod) };
  });
}

describe('routes', () => {
  it('creates exactly the routes of api-routes.ts', () => {
    // OPTIONS: the CORS preflight of browser clients (tested below), answered by API Gateway.
    const created = methods(dev)
      .filter((m) => m.method !== 'OPTIONS')
      .map((m) => `${m.method} ${m.path}`)
      .sort();
    expect(created).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('requires an API key on every method (but the keyless CORS preflight)', () => {
    const all = methods(dev).filter((m) => m.method !== 'OPTIONS');
    expect(all.length).toBe(API_ROUTES.length);
    for (const m of all) expect(m.properties.ApiKeyRequired, `${m.method} ${m.path}`).toBe(true);
  });

  it('validates POST /events against the ingest JSON Schema (draft 4)', () => {
    const post = methods(dev).find((m) => m.method === 'POST' && m.path === '/events');
    expect(post?.properties.RequestModels).toEqual({
      'application/json': { Ref: expect.stringMatching(/^IngestRequestModel/) },
    });
    const model = resourcesOfType(dev, 'AWS::ApiGateway::Model').find(
      (m) => (m.properties.Schema as { title?: string } | undefined)?.title === 'IngestRequest',
    );
    expect(model?.properties.Schema).toEqual({
      $schema: API_MODEL_SCHEMA,
      title: 'IngestRequest',
      ...ingestRequestJsonSchema(),
    });
    const validatorRef = (post?.properties.RequestValidatorId as { Ref: string } | undefined)?.Ref ?? '';
    expect(dev.templates.Api?.Resources[validatorRef]?.Properties).toMatchObject({
      ValidateRequestBody: true,
    });
  });

  it('declares path parameters as required on GET routes', () => {
    for (const m of methods(dev).filter((x) => x.method === 'GET')) {
      const expected = Object.fromEntries(
        pathParameters(m.path).map((p) => [`method.request.path.${p}`, true]),
      );
      expect(m.properties.RequestParameters ?? {}).toMatchObject(expected);
    }
  });
});

describe('stage, keys and throttling', () => {
  const api = template(dev, 'Api');

  it('samples X-Ray traces of the API stage with the stage rule', () => {
    const rules = resourcesOfType(dev, 'AWS::XRay::SamplingRule');
    expect(rules).toHaveLength(1);
    expect(rules[0]?.properties.SamplingRule).toMatchObject({
      ReservoirSize: dev.config.tracing.apiReservoirPerSecond,
      FixedRate: dev.config.tracing.apiFixedRate,
      ServiceType: 'AWS::ApiGateway::Stage',
      ServiceName: `ShopApi/${API_STAGE_NAME}`,
      Version: 1,
    });
  });

  it('logs access as JSON, traces and logs execution errors', () => {
    api.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: API_STAGE_NAME,
      TracingEnabled: true,
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('requestId'),
      },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ]),
    });
  });

  it('throttles and caps every key with a usage plan', () => {
    const plans = resourcesOfType(prod, 'AWS::ApiGateway::UsagePlan');
    expect(plans).toHaveLength(2);
    for (const plan of resourcesOfType(dev, 'AWS::ApiGateway::UsagePlan').filter(
      (p) => !p.logicalId.startsWith('ShopApiBrowserPlan'),
    )) {
      expect(plan.properties.Throttle).toEqual({
        RateLimit: dev.config.api.throttleRateLimit,
        BurstLimit: dev.config.api.throttleBurstLimit,
      });
      expect(plan.properties.Quota).toEqual({ Limit: dev.config.api.quotaPerDay, Period: 'DAY' });
    }
    expect(resourcesOfType(prod, 'AWS::ApiGateway::UsagePlanKey')).toHaveLength(2);
    expect(Object.keys(dev.templates.Api?.Outputs ?? {})).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ApiUrl|ShopApiEndpoint/),
        'WriteApiKeyId',
        'ReadApiKeyId',
      ]),
    );
  });
});

describe('response cache', () => {
  it('is off in dev (no billed cache cluster)', () => {
    const stage = resourcesOfType(dev, 'AWS::ApiGateway::Stage')[0];
    expect(stage?.properties.CacheClusterEnabled).toBe(false);
  });

  it('caches similar items and trending in prod, never user recommendations', () => {
    const stage = resourcesOfType(prod, 'AWS::ApiGateway::Stage')[0];
    const settings = stage?.properties.MethodSettings as Record<string, unknown>[];
    const ttlOf = (path: string) => {
      // Method-settings path: '/' + the resource path with its '/' escaped as '~1'.
      const s = settings.find(
        (x) => x.ResourcePath === `/${path.replaceAll('/', '~1')}` && x.HttpMethod === 'GET',
      );
      return s?.CachingEnabled ? s.CacheTtlInSeconds : 0;
    };
    expect(ttlOf('/users/{userId}/recommendations')).toBe(0);
    expect(ttlOf('/items/{itemId}/similar')).toBe(300);
    expect(ttlOf('/trending')).toBe(10);
  });

  it('caches GET routes in prod, encrypted, keyed by path and every query parameter', () => {
    const stage = resourcesOfType(prod, 'AWS::ApiGateway::Stage')[0];
    const cache = prod.config.api.cache;
    expect(cache).toBeDefined();
    expect(stage?.properties).toMatchObject({ CacheClusterEnabled: true, CacheClusterSize: cache?.sizeGb });
    const settings = stage?.properties.MethodSettings as Record<string, unknown>[];
    for (const route of API_ROUTES.filter((r) => r.method === 'GET')) {
      const ttl = Math.min(cache?.ttlSeconds ?? 0, route.maxCacheSeconds ?? 0);
      expect(settings).toContainEqual(
        expect.objectContaining({
          ResourcePath: `/${route.path.replaceAll('/', '~1')}`,
          HttpMethod: 'GET',
          CachingEnabled: ttl > 0,
          ...(ttl > 0 ? { CacheDataEncrypted: true, CacheTtlInSeconds: ttl } : {}),
        }),
      );
      const m = methods(prod).find((x) => x.method === 'GET' && x.path === route.path);
      const keys =
        (m?.properties.Integration as { CacheKeyParameters?: string[] } | undefined)?.CacheKeyParameters ??
        [];
      expect(keys.sort()).toEqual(
        [
          ...pathParameters(route.path).map((p) => `method.request.path.${p}`),
          ...(route.queryParameters ?? []).map((q) => `method.request.querystring.${q}`),
        ].sort(),
      );
    }
    const post = methods(prod).find((x) => x.method === 'POST');
    expect(
      (post?.properties.Integration as { CacheKeyParameters?: string[] } | undefined)?.CacheKeyParameters,
    ).toBeUndefined();
  });
});

describe('browser clients (stage config api.cors and api.browserKey)', () => {
  const events = () => methods(dev).filter((m) => m.path === '/events');

  it('answers CORS preflight on POST /events for the configured origins only, without credentials', () => {
    const options = events().find((m) => m.method === 'OPTIONS');
    expect(options, 'OPTIONS /events').toBeDefined();
    expect(options?.properties.ApiKeyRequired ?? false).toBe(false);
    const integration = options?.properties.Integration as {
      Type: string;
      IntegrationResponses: {
        ResponseParameters: Record<string, string>;
        ResponseTemplates?: Record<string, string>;
      }[];
    };
    expect(integration.Type).toBe('MOCK');
    const text = JSON.stringify(integration.IntegrationResponses);
    for (const origin of dev.config.api.cors?.allowedOrigins ?? []) expect(text).toContain(origin);
    expect(text).not.toContain("'*'");
    expect(text).not.toMatch(/Allow-Credentials'\s*:\s*"'true'/);
    expect(text).toContain('x-api-key');
    // Only /events: the read routes are not opened to browsers.
    expect(
      methods(dev)
        .filter((m) => m.method === 'OPTIONS')
        .map((m) => m.path),
    ).toEqual(['/events']);
    expect(methods(prod).filter((m) => m.method === 'OPTIONS')).toHaveLength(0);
  });

  it('gives the ingest Lambda the allowed origins for its response headers', () => {
    const fns = resourcesOfType(dev, 'AWS::Lambda::Function').filter((f) =>
      JSON.stringify(f.properties.Environment ?? {}).includes('EVENTS_STREAM_NAME'),
    );
    const ingest = fns.find((f) => JSON.stringify(f.properties.Environment).includes('QUARANTINE_URI'));
    expect(
      (ingest?.properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables,
    ).toMatchObject({
      CORS_ALLOWED_ORIGINS: dev.config.api.cors?.allowedOrigins.join(','),
    });
  });

  it('issues a public browser key whose plan blocks every GET and is rate-limited', () => {
    const plan = resourcesOfType(dev, 'AWS::ApiGateway::UsagePlan').find((p) =>
      p.logicalId.startsWith('ShopApiBrowserPlan'),
    );
    const limits = dev.config.api.browserKey;
    expect(plan && limits).toBeTruthy();
    expect(plan?.properties.Throttle).toEqual({
      RateLimit: limits?.throttleRateLimit,
      BurstLimit: limits?.throttleBurstLimit,
    });
    expect(plan?.properties.Quota).toEqual({ Limit: limits?.quotaPerDay, Period: 'DAY' });
    const stages = plan?.properties.ApiStages as {
      Throttle: Record<string, { RateLimit: number; BurstLimit: number }>;
    }[];
    const throttled = Object.keys(stages[0]?.Throttle ?? {}).sort();
    const gets = API_ROUTES.filter((r) => r.method === 'GET')
      .map((r) => `${r.path}/GET`)
      .sort();
    expect(throttled).toEqual(gets);
    for (const t of Object.values(stages[0]?.Throttle ?? {}))
      expect(t).toEqual({ RateLimit: 0, BurstLimit: 0 });
    expect(Object.keys(dev.templates.Api?.Outputs ?? {})).toContain('BrowserApiKeyId');
    expect(Object.keys(prod.templates.Api?.Outputs ?? {})).not.toContain('BrowserApiKeyId');
  });
});
