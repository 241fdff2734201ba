/**
 * shoplake's own API Gateway access-log format: JSON with the `$context` fields the access-log
 * parser reads (`parse.ts`, format `apigw`). Every value is quoted, so a context variable that is
 * empty (`-`) can never make the line invalid JSON; the parser reads numbers from strings.
 * The API stack writes it; the parser's unit tests parse a line of it.
 */
export const API_ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTimeEpoch: '$context.requestTimeEpoch',
  httpMethod: '$context.httpMethod',
  path: '$context.path',
  resourcePath: '$context.resourcePath',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  userAgent: '$context.identity.userAgent',
  domainName: '$context.domainName',
};

/** The format string API Gateway takes (`accessLogSettings.format`). */
export function apiAccessLogFormat(): string {
  return JSON.stringify(API_ACCESS_LOG_FIELDS);
}
