/** Task `Prepare` of `forecast.asl.json`: mode, version, export window, Athena parameters. */
import { forecastArtifactsUri } from './context.ts';
import { type ForecastRun, prepareForecast } from './pipeline.ts';

const artifacts = forecastArtifactsUri();

export const handler = async (input: unknown): Promise<ForecastRun> =>
  prepareForecast(input, new Date(), artifacts);
