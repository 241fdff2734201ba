/**
 * The public REST API, built from `lambdas/shared/api-routes.ts` (the same table the local HTTP
 * server routes): `POST /events` to the ingest Lambda with request validation against the
 * ingest JSON Schema, and the `GET` recommendation routes with response caching. Every method
 * requires an API key; usage plans throttle and cap each key. Access logs go to a log group with
 * the stage's retention, execution errors are logged, and X-Ray tracing is on.
 *
 * One API for ingestion and serving (rather than one per stack): one endpoint and key for the
 * shop, one account-level CloudWatch role, and no cross-stack Lambda-permission cycles.
 * Two keys are issued so that the event producer (shop backend) and the storefront get their own
 * throttle, quota and rotation; API keys are not scoped to methods (use IAM auth for that).
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as xray from 'aws-cdk-lib/aws-xray';
import type { Construct } from 'constructs';
import { apiAccessLogFormat } from '../../lambdas/shared/access-log/apigw-format.ts';
import { API_ROUTES, type ApiRoute } from '../../lambdas/shared/api-routes.ts';
import { CORS_ALLOW_HEADERS, CORS_MAX_AGE_SECONDS } from '../../lambdas/shared/cors.ts';
import { ingestRequestJsonSchema } from '../../lambdas/shared/event-schema.ts';
import { apiGatewayModelSchemas } from '../../lambdas/shared/openapi.ts';
import type { StageConfig } from '../config/stage-config.ts';
import { stageLogGroup } from '../constructs/secure-defaults.ts';

/** API Gateway stage name (the first path segment of every URL). */
export const API_STAGE_NAME = 'v1';
/** JSON Schema dialect API Gateway models accept. */
export const API_MODEL_SCHEMA = 'http://json-schema.org/draft-04/schema#';

export interface ApiStackProps extends StackProps {
  readonly config: StageConfig;
  /** Function per handler module of `api-routes.ts`. */
  readonly handlers: Readonly<Record<ApiRoute['handler'], lambda.IFunction>>;
  /**
   * Receives the access logs through a CloudWatch Logs subscription (docs/access-logs.md).
   * @default - no subscription
   */
  readonly accessLogShipper?: lambda.IFunction;
}

/** Path parameters of an API Gateway path (`/users/{userId}/x` → `['userId']`). */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([A-Za-z0-9_]+)\+?\}/g)].map((m) => m[1] ?? '');
}

export class ApiStack extends Stack {
  readonly api: apigw.RestApi;
  readonly writeKey: apigw.IApiKey;
  readonly readKey: apigw.IApiKey;
  /** Public, write-only key for browsers (stage config `api.browserKey`). */
  readonly browserKey?: apigw.IApiKey;
  /** Routes that were created (all of API_ROUTES once every handler exists). */
  readonly routes: readonly ApiRoute[];

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;
    const accessLogs = stageLogGroup(this, 'AccessLogs', config);
    if (props.accessLogShipper) this.subscribeAccessLogs(accessLogs, props.accessLogShipper);
    const cache = config.api.cache;

    this.api = new apigw.RestApi(this, 'ShopApi', {
      description: `shoplake ${config.stage}: event ingest and recommendations`,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      apiKeySourceType: apigw.ApiKeySourceType.HEADER,
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: API_STAGE_NAME,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        // JSON with the fields the access-log parser reads (latency, path, user agent…).
        accessLogFormat: apigw.AccessLogFormat.custom(apiAccessLogFormat()),
        tracingEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: false,
        cacheClusterEnabled: cache !== undefined,
        cacheClusterSize: cache?.sizeGb,
        methodOptions: Object.fromEntries(
          API_ROUTES.filter((r) => r.method === 'GET').map((r) => {
            const ttl = cache ? Math.min(cache.ttlSeconds, r.maxCacheSeconds ?? 0) : 0;
            return [
              `${r.path}/${r.method}`,
              {
                cachingEnabled: ttl > 0,
                cacheTtl: ttl > 0 ? Duration.seconds(ttl) : undefined,
                cacheDataEncrypted: ttl > 0,
              },
            ];
          }),
        ),
      },
    });
    // X-Ray sampling of the API stage (API Gateway decides; the Lambdas it invokes follow):
    // the stage's reservoir per second plus a fixed fraction of the rest, instead of X-Ray's
    // default rule (1 per second + 5%), which at a few requests per second traces nearly all.
    new xray.CfnSamplingRule(this, 'ApiSamplingRule', {
      samplingRule: {
        ruleName: `shoplake-${config.stage}-api`.slice(0, 32),
        priority: 100,
        reservoirSize: config.tracing.apiReservoirPerSecond,
        fixedRate: config.tracing.apiFixedRate,
        serviceName: `${this.api.restApiName}/${API_STAGE_NAME}`,
        serviceType: 'AWS::ApiGateway::Stage',
        host: '*',
        httpMethod: '*',
        urlPath: '*',
        resourceArn: '*',
        version: 1,
      },
    });
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway needs one account-level role to deliver access and execution logs; AWS documents this managed policy as that role's policy.",
      });
    }
    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-APIG3',
        reason:
          'No WAF web ACL by default (cost per ACL and rule); every method needs an API key and usage plans throttle each key. Attach a WAF ACL to the stage for public storefront traffic.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason:
          'Methods are authenticated with API keys bound to usage plans (server-to-server shop integration); an IAM or Cognito authorizer is a documented alternative in docs/deploy.md.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-COG4',
        reason:
          'No Cognito user pool: callers are the shop backend and storefront, authenticated by API key.',
      },
    );

    const bodyValidator = this.api.addRequestValidator('BodyValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const paramsValidator = this.api.addRequestValidator('ParamsValidator', {
      validateRequestBody: false,
      validateRequestParameters: true,
    });
    const ingestModel = new apigw.CfnModel(this, 'IngestRequestModel', {
      restApiId: this.api.restApiId,
      contentType: 'application/json',
      description: 'Ingest request envelope (lambdas/shared/event-schema.ts ingestRequestJsonSchema)',
      schema: { $schema: API_MODEL_SCHEMA, title: 'IngestRequest', ...ingestRequestJsonSchema() },
    });
    const ingestModelRef = apigw.Model.fromModelName(this, 'IngestRequestModelRef', ingestModel.ref);
    // Response models from the OpenAPI generator's zod schemas (docs/openapi.json): the one error
    // body and the analytics result.
    const modelSchemas = apiGatewayModelSchemas();
    const errorModel = this.api.addModel('ErrorModel', {
      contentType: 'application/json',
      description: 'The error body of every route: {"error": code, "message": text, "details"?: …}',
      schema: { schema: apigw.JsonSchemaVersion.DRAFT4, title: 'Error', ...(modelSchemas.Error as object) },
    });
    const analyticsModel = this.api.addModel('AnalyticsResultModel', {
      contentType: 'application/json',
      description: 'One page of a dashboard data set (GET /analytics/{dataset})',
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        title: 'AnalyticsResult',
        ...(modelSchemas.AnalyticsResult as object),
      },
    });
    // API Gateway's own errors (missing key, throttling, integration failure) in the same shape.
    for (const [id, type] of [
      ['Default4xx', apigw.ResponseType.DEFAULT_4XX],
      ['Default5xx', apigw.ResponseType.DEFAULT_5XX],
    ] as const) {
      this.api.addGatewayResponse(id, {
        type,
        templates: {
          'application/json':
            '{"error": "$context.error.responseType", "message": $context.error.messageString}',
        },
      });
    }
    const errorResponses = ['400', '403', '404', '429', '503', '504'].map((statusCode) => ({
      statusCode,
      responseModels: { 'application/json': errorModel },
    }));

    const created: ApiRoute[] = [];
    const getMethods: apigw.Method[] = [];
    for (const route of API_ROUTES) {
      const fn = props.handlers[route.handler];
      const resource = this.api.root.resourceForPath(route.path);
      const params = pathParameters(route.path).map((p) => `method.request.path.${p}`);
      const queryParams = (route.queryParameters ?? []).map((q) => `method.request.querystring.${q}`);
      const requestParameters: Record<string, boolean> = {};
      for (const p of params) requestParameters[p] = true;
      for (const q of queryParams) requestParameters[q] = false;
      const cached = route.method === 'GET' && cache !== undefined;
      const method = resource.addMethod(
        route.method,
        new apigw.LambdaIntegration(fn, {
          proxy: true,
          allowTestInvoke: false,
          cacheKeyParameters: cached ? [...params, ...queryParams] : undefined,
          timeout: Duration.seconds(29),
        }),
        {
          apiKeyRequired: true,
          operationName: `${route.method}${route.path}`,
          requestParameters,
          requestValidator: route.method === 'POST' ? bodyValidator : paramsValidator,
          requestModels: route.method === 'POST' ? { 'application/json': ingestModelRef } : undefined,
          methodResponses: [
            {
              statusCode: '200',
              ...(route.handler === 'analytics/handler.ts'
                ? { responseModels: { 'application/json': analyticsModel } }
                : {}),
            },
            ...errorResponses,
          ],
        },
      );
      created.push(route);
      if (route.method === 'GET') getMethods.push(method);
      // Browser clients: API Gateway answers the preflight (the Lambda adds the response header).
      if (config.api.cors && route.method === 'POST' && !resource.node.tryFindChild('OPTIONS')) {
        resource.addCorsPreflight({
          allowOrigins: config.api.cors.allowedOrigins,
          allowMethods: [route.method],
          allowHeaders: [...CORS_ALLOW_HEADERS],
          allowCredentials: false,
          maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
        });
      }
    }
    this.routes = created;

    const stage = this.api.deploymentStage;
    this.writeKey = this.api.addApiKey('WriteKey', { description: `shoplake ${config.stage}: POST /events` });
    this.readKey = this.api.addApiKey('ReadKey', {
      description: `shoplake ${config.stage}: GET recommendations and analytics`,
    });
    const throttle = { rateLimit: config.api.throttleRateLimit, burstLimit: config.api.throttleBurstLimit };
    const quota = { limit: config.api.quotaPerDay, period: apigw.Period.DAY };
    const writePlan = this.api.addUsagePlan('WritePlan', {
      description: 'Event producers',
      throttle,
      quota,
      apiStages: [{ api: this.api, stage }],
    });
    writePlan.addApiKey(this.writeKey);
    const readPlan = this.api.addUsagePlan('ReadPlan', {
      description: 'Storefront reads',
      throttle,
      quota,
      apiStages: [{ api: this.api, stage }],
    });
    readPlan.addApiKey(this.readKey);

    if (config.api.browserKey) {
      // A browser key is public: anyone can copy it from the page. It can only send events
      // (every GET method is throttled to zero for it) at the browser plan's rate and quota.
      const limits = config.api.browserKey;
      this.browserKey = this.api.addApiKey('BrowserKey', {
        description: `shoplake ${config.stage}: PUBLIC browser key, POST /events only`,
      });
      const browserPlan = this.api.addUsagePlan('BrowserPlan', {
        description: 'Browser tracker (public key): POST /events only',
        throttle: { rateLimit: limits.throttleRateLimit, burstLimit: limits.throttleBurstLimit },
        quota: { limit: limits.quotaPerDay, period: apigw.Period.DAY },
        apiStages: [
          {
            api: this.api,
            stage,
            throttle: getMethods.map((method) => ({ method, throttle: { rateLimit: 0, burstLimit: 0 } })),
          },
        ],
      });
      browserPlan.addApiKey(this.browserKey);
      new CfnOutput(this, 'BrowserApiKeyId', {
        value: this.browserKey.keyId,
        description: 'PUBLIC write-only key for the web tracker (clients/web): x-api-key for POST /events',
      });
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the shop API' });
    new CfnOutput(this, 'WriteApiKeyId', {
      value: this.writeKey.keyId,
      description: 'aws apigateway get-api-key --include-value --api-key <id> → x-api-key for POST /events',
    });
    new CfnOutput(this, 'ReadApiKeyId', {
      value: this.readKey.keyId,
      description: 'aws apigateway get-api-key --include-value --api-key <id> → x-api-key for GET routes',
    });
  }

  /**
   * CloudWatch Logs subscription of the access logs to the shipper Lambda (which puts one record
   * per line on the access-log delivery stream). The invoke permission lives here, beside the
   * log group it names, so the ingestion stack needs no reference back to this stack.
   */
  private subscribeAccessLogs(logGroup: logs.ILogGroup, shipper: lambda.IFunction): void {
    const permission = new lambda.CfnPermission(this, 'AccessLogShipperInvoke', {
      action: 'lambda:InvokeFunction',
      functionName: shipper.functionArn,
      principal: 'logs.amazonaws.com',
      sourceArn: logGroup.logGroupArn,
      sourceAccount: this.account,
    });
    const filter = new logs.CfnSubscriptionFilter(this, 'AccessLogSubscription', {
      logGroupName: logGroup.logGroupName,
      filterPattern: '',
      destinationArn: shipper.functionArn,
    });
    filter.node.addDependency(permission);
  }
}
