/**
 * `shoplake demo` runs a sequence of stages (ingest, ETL, training, …), each a module in
 * `./stages/` exporting `stage`. Later capabilities add a stage file instead of editing the
 * demo command.
 */
import type { Reporter } from '../cli/output.ts';
import type { LocalRuntime } from '../runtime/types.ts';

export interface DemoOptions {
  readonly events: number;
  readonly seed: number;
  /** Days of shop history the events span (more days → more months on the dashboard). @default 1 */
  readonly days?: number;
  readonly serve: boolean;
  readonly json: boolean;
}

export interface DemoContext {
  readonly runtime: LocalRuntime;
  readonly report: Reporter;
  readonly options: DemoOptions;
  /** Results of the stages that already ran, by stage name. */
  readonly results: Readonly<Record<string, unknown>>;
}

export interface DemoStage {
  /** Key of this stage's result in the demo's JSON summary. */
  readonly name: string;
  /** Stages run in ascending order: 100 ingest, 200 ETL, 300 training, 400 dashboard. */
  readonly order: number;
  run(ctx: DemoContext): Promise<unknown>;
  /** Human-readable lines for the final summary. */
  describe?(result: unknown): string[];
}
