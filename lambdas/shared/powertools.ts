/**
 * Powertools logger and metrics of a Lambda, named the same way in every handler: the service
 * is `POWERTOOLS_SERVICE_NAME` when the stack sets it, else the handler's default; metrics go
 * to `POWERTOOLS_METRICS_NAMESPACE` (default `shoplake`). Created once per container, at init.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export function powertools(defaultServiceName: string): { logger: Logger; metrics: Metrics } {
  const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? defaultServiceName;
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ serviceName, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'shoplake' }),
  };
}
