/** Task `Register` of `forecast.asl.json`: the candidate's registry entry (published or rejected). */
import type { ForecastRegistryEntry } from '../shared/forecast/registry.ts';
import { forecastDepsFromEnv } from './context.ts';
import { registerCandidate } from './pipeline.ts';

const deps = forecastDepsFromEnv();

/** Input: `{ candidate }` (the model step's train output). */
export const handler = async (input: unknown): Promise<Pick<ForecastRegistryEntry, 'version' | 'status'>> => {
  const entry = await registerCandidate(
    typeof input === 'object' && input !== null ? (input as { candidate?: unknown }).candidate : undefined,
    deps,
  );
  return { version: entry.version, status: entry.status };
};
