/** Task `Load` of `forecast.asl.json`: the model step's forecasts into gold.demand_forecast. */
import { requiredText } from '../training/context.ts';
import { forecastDepsFromEnv } from './context.ts';
import { loadForecasts } from './pipeline.ts';

const deps = forecastDepsFromEnv();

export const handler = async (input: unknown) =>
  loadForecasts({ forecastsUri: requiredText(input, 'forecastsUri') }, deps);
