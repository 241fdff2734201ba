/** Task `Prepare` of `train.asl.json`: validates the execution input, fixes version and SQL parameters. */
import { prepareRun, type RunConfig } from './pipeline.ts';

export const handler = async (input: unknown): Promise<RunConfig> => prepareRun(input, new Date());
