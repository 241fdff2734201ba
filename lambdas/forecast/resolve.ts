/** Task `ResolveModel` of `forecast.asl.json`: the active model's version and artifact URI. */
import { forecastDepsFromEnv } from './context.ts';
import { resolveActiveModel } from './pipeline.ts';

const deps = forecastDepsFromEnv();

export const handler = async () => resolveActiveModel(deps);
