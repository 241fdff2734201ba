/**
 * The local runner's stand-in for `glue:startJobRun.sync`: it runs the extract of the job's
 * source (picked from the job name) and answers with the JobRun fields the state keeps; a job
 * without a local extract fails the task instead of pretending to succeed.
 */
import { describe, expect, it } from 'vitest';
import type { DuckdbEngine } from '../../local/engine/duckdb.ts';
import {
  LOCAL_ETL_RESOURCES,
  localGlueJobRun,
  NoLocalExtractError,
  type OltpExtractResult,
  sourceOfJobName,
} from '../../local/sfn/etl-runner.ts';

const engine = {} as DuckdbEngine;

describe('localGlueJobRun', () => {
  it('picks the source from the job name', () => {
    expect(sourceOfJobName(LOCAL_ETL_RESOURCES.OltpExtractJobName)).toBe('oltp');
    expect(sourceOfJobName(LOCAL_ETL_RESOURCES.MarketingExtractJobName)).toBe('marketing');
    expect(sourceOfJobName('Shoplake-dev-Processing-SourceExtractOltpExtractJob-AbC')).toBe('oltp');
    expect(sourceOfJobName('some-other-job')).toBeUndefined();
  });

  it("runs the source's extract with the run id and returns the job run", async () => {
    const seen: [string, string][] = [];
    const results: [string, OltpExtractResult][] = [];
    const handler = localGlueJobRun(
      {
        oltp: async (_e, runId) => {
          seen.push(['oltp', runId]);
          return { snapshotAt: '2026-12-01T00:00:00Z', tables: { 'bronze.oltp_customers': 3 } };
        },
      },
      { engine, runId: () => 'run-7', onResult: (source, r) => results.push([source, r]) },
    );
    const out = await handler({
      JobName: LOCAL_ETL_RESOURCES.OltpExtractJobName,
      Arguments: { '--run_id': 'run-7', '--extract_mode': 'incremental' },
    });
    expect(out).toEqual({
      Id: 'jr_local_1',
      JobName: LOCAL_ETL_RESOURCES.OltpExtractJobName,
      JobRunState: 'SUCCEEDED',
      Arguments: { '--run_id': 'run-7', '--extract_mode': 'incremental' },
    });
    expect(seen).toEqual([['oltp', 'run-7']]);
    expect(results[0]?.[1].tables).toEqual({ 'bronze.oltp_customers': 3 });
  });

  it('fails the task for a source without a local extract', async () => {
    const handler = localGlueJobRun({}, { engine, runId: () => 'r', onResult: () => undefined });
    await expect(handler({ JobName: LOCAL_ETL_RESOURCES.MarketingExtractJobName })).rejects.toBeInstanceOf(
      NoLocalExtractError,
    );
  });
});
