/** Task `Activate` of `forecast.asl.json`: switches the active forecast model. */
import { requiredText } from '../training/context.ts';
import { forecastDepsFromEnv } from './context.ts';
import { activateForecastModel } from './pipeline.ts';

const deps = forecastDepsFromEnv();

export const handler = async (input: unknown) => activateForecastModel(requiredText(input, 'version'), deps);
