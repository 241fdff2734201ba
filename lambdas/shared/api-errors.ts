/**
 * The one error body of the HTTP API, for every handler and the local server:
 * `{"error": code, "message": text, "details"?: …}`. `error` is a stable machine-readable code
 * (snake_case), `message` says what went wrong for a person, `details` carries what a client can
 * act on (the offending parameters, an execution id to retry with…).
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';

export const ApiErrorSchema = z.object({
  error: z.string().describe('Stable error code, snake_case (e.g. `bad_request`, `unknown_dataset`)'),
  message: z.string().describe('What went wrong, for a person'),
  details: z.unknown().optional().describe('Machine-readable context (offending parameters, ids)'),
});
export type ApiError = z.infer<typeof ApiErrorSchema>;

/** The error body; `details` only when given. */
export function apiError(error: string, message: string, details?: unknown): ApiError {
  return details === undefined ? { error, message } : { error, message, details };
}

/** An API Gateway proxy result carrying the error body. */
export function errorResult(
  statusCode: number,
  error: string,
  message: string,
  details?: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(apiError(error, message, details)),
  };
}
