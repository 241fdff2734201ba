import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import {
  athenaStatementOfFile,
  ETL_DEFINITION_PATH,
  etlDefinitionSubstitutions,
  etlSqlKeys,
  SQL_DIR,
  sqlFileOfKey,
  substituteDefinition,
} from '../../lambdas/etl/definition.ts';
import { InvalidRunInputError, parseRunInput, prepareRun } from '../../lambdas/etl/prepare-run.ts';
import { ID_PATTERN, LIMITS } from '../../lambdas/shared/event-schema.ts';

const aslValidator = createRequire(import.meta.url)('asl-validator') as (d: unknown) => {
  isValid: boolean;
  errorsText(sep?: string): string;
};

const text = readFileSync(ETL_DEFINITION_PATH, 'utf8');
const resources = {
  AthenaWorkGroup: 'wg',
  PrepareRunFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:prep',
  FailureTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alarms',
  EtlLeaseTable: 'shoplake-dev-etl-lease',
  OltpExtractJobName: 'shoplake-dev-extract-oltp',
  MarketingExtractJobName: 'shoplake-dev-extract-marketing',
};

interface State {
  Type: string;
  Resource?: string;
  Comment?: string;
  Parameters?: Record<string, unknown>;
  Retry?: unknown[];
  Catch?: { Next: string }[];
  Next?: string;
  Branches?: { StartAt: string; States: Record<string, State> }[];
}

function topStates(): Record<string, State> {
  return (JSON.parse(text) as { States: Record<string, State> }).States;
}

/** Every state, including those inside Parallel branches, with whether it is top-level. */
function allStates(): [string, State, boolean][] {
  const out: [string, State, boolean][] = [];
  const walk = (states: Record<string, State>, top: boolean) => {
    for (const [name, s] of Object.entries(states)) {
      out.push([name, s, top]);
      for (const b of s.Branches ?? []) walk(b.States, false);
    }
  };
  walk(topStates(), true);
  return out;
}

describe('step-functions/etl.asl.json', () => {
  it('is valid ASL, raw and after substitution', () => {
    const raw = aslValidator(JSON.parse(text));
    expect(raw.isValid, raw.errorsText()).toBe(true);
    const substituted = JSON.parse(
      substituteDefinition(text, etlDefinitionSubstitutions(resources, { databasePrefix: 'shoplake_' })),
    ) as unknown;
    const result = aslValidator(substituted);
    expect(result.isValid, result.errorsText()).toBe(true);
  });

  it('uses JSONPath only (no JSONata, no Assign)', () => {
    expect(text).not.toMatch(/"QueryLanguage"\s*:\s*"JSONata"/);
    expect(text).not.toMatch(/"Assign"/);
    expect(text).not.toMatch(/\{%/);
  });

  it('runs every etl_*.sql file exactly once', () => {
    const files = readdirSync(SQL_DIR)
      .filter((f) => /^etl_\d\d_.*\.sql$/.test(f))
      .sort();
    const keys = etlSqlKeys(text);
    expect(keys.map(sqlFileOfKey).sort()).toEqual(files);
  });

  it('passes each task the execution parameters its SQL file uses, in order', () => {
    for (const [name, s, top] of allStates()) {
      const qs = s.Parameters?.QueryString;
      if (typeof qs !== 'string' || !qs.startsWith('${Sql_')) continue;
      const file = sqlFileOfKey(qs.slice(2, -1));
      const { parameters } = athenaStatementOfFile(file, 'shoplake_');
      const expected =
        parameters.length === 0
          ? undefined
          : `States.Array(${parameters.map((p) => `$.run.sql.${p}`).join(', ')})`;
      expect(s.Parameters?.['ExecutionParameters.$'], `${name} (${file})`).toBe(expected);
      expect(s.Resource).toBe('arn:aws:states:::athena:startQueryExecution.sync');
      expect(s.Retry?.length, name).toBeGreaterThan(0);
      // inside a Parallel branch the Parallel state's catch-all notifies
      if (top) expect(s.Catch?.[0]?.Next, name).toBe('NotifyFailure');
      else expect(s.Catch, name).toBeUndefined();
    }
    for (const [name, s, top] of allStates()) {
      if (top && s.Type === 'Parallel') expect(s.Catch?.[0]?.Next, name).toBe('NotifyFailure');
    }
  });

  it('orders extract → silver → quality gate → gold → maintenance, with a notifying failure path', () => {
    const states = topStates();
    const order: string[] = [];
    let at: string | undefined = 'PrepareRun';
    while (at && order.length < 100) {
      order.push(at);
      const s: State | undefined = states[at];
      at = s?.Type === 'Choice' ? (s as unknown as { Default: string }).Default : s?.Next;
    }
    const pos = (n: string) => order.indexOf(n);
    expect(pos('Extract')).toBeGreaterThan(pos('PrepareRun'));
    // Silver: the events chain and the access-log chain run as branches of one Parallel state.
    expect(pos('SilverSteps')).toBeGreaterThan(pos('Extract'));
    expect(states.SilverSteps?.Branches?.map((b) => b.StartAt)).toEqual([
      'SilverRejectedEvents',
      'SilverAccessRequests',
    ]);
    expect(pos('QualityGateChoice')).toBeGreaterThan(pos('SilverSteps'));
    expect(pos('GoldSteps')).toBeGreaterThan(pos('QualityGateChoice'));
    expect(states.GoldSteps?.Branches?.map((b) => b.StartAt)).toContain('GoldCampaignAttributionDelete');
    expect(pos('Maintenance')).toBeGreaterThan(pos('GoldSteps'));
    expect(order.at(-1)).toBe('Succeeded');
    expect(states.NotifyFailure?.Resource).toBe('arn:aws:states:::sns:publish');
    expect(states.NotifyFailure?.Next).toBe('ReleaseLeaseAfterFailure');
    expect(states.ReleaseLeaseAfterFailure?.Next).toBe('EtlFailed');
    expect(order.at(-2)).toBe('ReleaseLease');
    expect(states.EtlFailed?.Type).toBe('Fail');
    const choice = states.QualityGateChoice as unknown as { Choices: { Next: string }[] };
    expect(choice.Choices[0]?.Next).toBe('QualityGateFailed');
  });

  it('runs each source extract job (glue:startJobRun.sync) after RegisterRun and before silver, guarded by its source flag', () => {
    const states = topStates() as Record<string, State & Record<string, unknown>>;
    expect(states.RegisterRun?.Next).toBe('ExtractOltpChoice');
    for (const [source, name, key, next] of [
      ['oltp', 'ExtractOltp', 'OltpExtractJobName', 'ExtractMarketingChoice'],
      ['marketing', 'ExtractMarketing', 'MarketingExtractJobName', 'Extract'],
    ] as const) {
      const choice = states[`${name}Choice`] as unknown as {
        Choices: { And: Record<string, unknown>[]; Next: string }[];
        Default: string;
      };
      expect(choice.Choices).toEqual([
        {
          And: [
            { Variable: `$.run.sources.${source}`, IsPresent: true },
            { Variable: `$.run.sources.${source}`, BooleanEquals: true },
          ],
          Next: name,
        },
      ]);
      expect(choice.Default).toBe(`${name}Skipped`);
      const task = states[name];
      expect(task?.Resource).toBe('arn:aws:states:::glue:startJobRun.sync');
      expect(task?.Parameters).toEqual({
        JobName: `\${${key}}`,
        Arguments: { '--run_id.$': '$.run.run_id', '--extract_mode': 'incremental' },
      });
      expect(task?.Next).toBe(next);
      // Waits at least as long as the longest job timeout a stage can configure (300 min).
      expect(task?.TimeoutSeconds).toBeGreaterThan(300 * 60);
      expect(states[`${name}Skipped`]?.Next).toBe(next);
      expect(task?.Catch?.[0]?.Next).toBe('NotifyFailure');
      const retry = task?.Retry as { ErrorEquals: string[] }[];
      expect(retry.flatMap((r) => r.ErrorEquals)).toContain('Glue.ConcurrentRunsExceededException');
      expect(retry.flatMap((r) => r.ErrorEquals)).toContain('States.TaskFailed');
    }
    const substituted = substituteDefinition(
      text,
      etlDefinitionSubstitutions(resources, { databasePrefix: 'shoplake_' }),
    );
    expect(substituted).toContain('"JobName": "shoplake-dev-extract-oltp"');
    expect(substituted).toContain('"JobName": "shoplake-dev-extract-marketing"');
    // PrepareRun's result carries the flags the choices read.
    expect(JSON.stringify(states.PrepareRun?.ResultSelector)).toContain('"sources.$":"$.Payload.sources"');
  });

  it('substitutes SQL with physical database names and positional parameters, JSON-escaped', () => {
    const subs = etlDefinitionSubstitutions(resources, { databasePrefix: 'prod_' });
    const events = JSON.parse(`"${subs.Sql_etl_11_silver_events}"`) as string;
    expect(events).toContain('INSERT INTO prod_silver.events');
    expect(events).toContain('FROM prod_bronze.events b');
    const code = events
      .split('\n')
      .filter((l) => !l.trim().startsWith('--'))
      .join('\n');
    expect(code).not.toMatch(/:run_id|:date_from/);
    expect(events).toContain('?');
    expect(subs.AthenaWorkGroup).toBe('wg');
  });
});

describe('PrepareRun', () => {
  const now = () => new Date('2026-11-21T10:00:00Z');

  it('defaults to a lookback window ending today, with literal-quoted parameters', () => {
    const ctx = prepareRun({}, { now, randomSuffix: () => 'abc' });
    expect(ctx).toMatchObject({
      run_id: 'etl-20261121T100000-abc',
      date_from: '2026-11-18',
      date_to: '2026-11-21',
    });
    expect(ctx.sql).toEqual({
      run_id: "'etl-20261121T100000-abc'",
      date_from: "'2026-11-18'",
      date_to: "'2026-11-21'",
    });
  });

  it('honours date, explicit windows, full runs and the execution name', () => {
    expect(prepareRun({ date: '2024-03-01', lookbackDays: 1 }, { now })).toMatchObject({
      date_from: '2024-02-29',
      date_to: '2024-03-01',
    });
    expect(prepareRun({ from: '2024-01-01', to: '2024-01-31' }, { now })).toMatchObject({
      date_from: '2024-01-01',
      date_to: '2024-01-31',
    });
    expect(prepareRun({ full: true }, { now })).toMatchObject({
      date_from: '1970-01-01',
      date_to: '9999-12-31',
    });
    expect(prepareRun({ executionName: 'exec-1' }, { now }).run_id).toBe('exec-1');
    expect(prepareRun({}, { now, databasePrefix: 'p_' }).maintenance_tables).toContain('p_silver.events');
  });

  it('rejects malformed input clearly', () => {
    expect(() => prepareRun({ date: '2024-02-30' }, { now })).toThrow(InvalidRunInputError);
    expect(() => prepareRun({ from: '2024-02-02', to: '2024-02-01' }, { now })).toThrow(/after its end/);
    expect(() => prepareRun({ date: "2024-01-01'; DROP" }, { now })).toThrow(/real date/);
    expect(() => parseRunInput({ date: 20240101 })).toThrow(/must be a string/);
    expect(() => parseRunInput([1])).toThrow(/must be an object/);
  });

  it('handler reads the Step Functions payload and the stage sources from ETL_SOURCES', async () => {
    vi.resetModules();
    vi.stubEnv('ETL_SOURCES', '{"oltp":true,"marketing":false}');
    try {
      const { handler } = await import('../../lambdas/etl/handler.ts');
      const ctx = await handler({
        input: { date: '2024-05-05', lookbackDays: 0 },
        executionName: 'sfn-exec',
      });
      expect(ctx).toMatchObject({ run_id: 'sfn-exec', date_from: '2024-05-05', date_to: '2024-05-05' });
      expect(ctx.maintenance_tables).toContain('shoplake_gold.monthly_kpis');
      expect(ctx.sources).toEqual({ oltp: true, marketing: false });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('handler fails at init without ETL_SOURCES, and on a malformed value', async () => {
    vi.resetModules();
    vi.stubEnv('ETL_SOURCES', '');
    await expect(import('../../lambdas/etl/handler.ts')).rejects.toThrow(/ETL_SOURCES is required/);
    vi.resetModules();
    vi.stubEnv('ETL_SOURCES', '{"oltp":true,"crm":true}');
    await expect(import('../../lambdas/etl/handler.ts')).rejects.toThrow(/unknown source crm/);
    vi.resetModules();
    vi.stubEnv('ETL_SOURCES', '{"oltp":"yes"}');
    await expect(import('../../lambdas/etl/handler.ts')).rejects.toThrow(/oltp must be a boolean/);
    vi.unstubAllEnvs();
  });

  it('returns no sources unless given, and the given flags otherwise', () => {
    expect(prepareRun({}, { now }).sources).toEqual({ oltp: false, marketing: false });
    expect(prepareRun({}, { now, sources: { oltp: true, marketing: true } }).sources).toEqual({
      oltp: true,
      marketing: true,
    });
  });

  it('applies the same event-contract rules when rejecting (etl_10) and admitting (etl_11) silver rows', () => {
    const block = (file: string) => {
      const sql = readFileSync(`${SQL_DIR}/${file}`, 'utf8');
      const start = sql.indexOf('-- contract rules: begin');
      const end = sql.indexOf('-- contract rules: end');
      expect(start, file).toBeGreaterThan(0);
      expect(end, file).toBeGreaterThan(start);
      return sql.slice(start, end);
    };
    const rejecting = block('etl_10_silver_rejected_events.sql');
    expect(block('etl_11_silver_events.sql')).toBe(rejecting);
    // the contract's limits, as the SQL states them
    for (const limit of [
      LIMITS.maxReviewTextChars,
      LIMITS.maxFreeTextChars,
      LIMITS.maxPrice,
      LIMITS.maxQuantity,
    ]) {
      expect(rejecting).toContain(String(limit));
    }
    expect(rejecting).toContain(String(LIMITS.maxPurchaseLines));
    expect(rejecting).toContain(String(LIMITS.maxAttributes));
    expect(rejecting).toContain(`'${ID_PATTERN.source}'`);
  });
});
