/**
 * Analytics API and BI: the analytics Lambda behind `GET /analytics/{dataset}` (read key, least
 * privilege on Athena/Glue/S3), and the QuickSight dashboard built from the same data-set list
 * as the local dashboard — every visual's columns exist in its data set.
 */
import { describe, expect, it } from 'vitest';
import { ANALYTICS_DATASETS, SHEETS } from '../../lambdas/shared/analytics/datasets.ts';
import { QUICKSIGHT_PRINCIPAL, resourcesOfType, synth } from './helpers.ts';

const app = synth({ stage: 'dev' });
const bi = synth({ stage: 'dev', context: { quicksightPrincipalArn: QUICKSIGHT_PRINCIPAL } });

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function analyticsStatements(): Statement[] {
  const fn = resourcesOfType(app, 'AWS::Lambda::Function').find((f) =>
    f.logicalId.startsWith('AnalyticsFunction'),
  );
  expect(fn, 'analytics function').toBeDefined();
  const policies = resourcesOfType(app, 'AWS::IAM::Policy').filter((p) => p.stack === fn?.stack);
  return policies.flatMap((p) => (p.properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('analytics Lambda', () => {
  it('is wired to GET /analytics/{dataset} with an API key', () => {
    const methods = resourcesOfType(app, 'AWS::ApiGateway::Method').filter(
      (m) => m.properties.OperationName === 'GET/analytics/{dataset}',
    );
    expect(methods).toHaveLength(1);
    expect(methods[0]?.properties.ApiKeyRequired).toBe(true);
    expect(JSON.stringify(methods[0]?.properties.Integration)).toContain('AnalyticsFunction');
  });

  it('gets the workgroup and database prefix in its environment', () => {
    const fn = resourcesOfType(app, 'AWS::Lambda::Function').find((f) =>
      f.logicalId.startsWith('AnalyticsFunction'),
    );
    const env =
      (fn?.properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(env.ATHENA_WORKGROUP).toBeDefined();
    expect(env.GLUE_DATABASE_PREFIX).toBe('shoplake_');
    expect(env.ANALYTICS_QUERY_TIMEOUT_MS).toBe('20000');
    expect(env.ANALYTICS_RESULT_REUSE_MINUTES).toBe('60');
  });

  it('may only query: no Glue writes, no warehouse writes, Athena on one workgroup', () => {
    const statements = analyticsStatements();
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toContain('athena:StartQueryExecution');
    expect(actions.filter((a) => /^glue:(Create|Update|Delete)/.test(a))).toEqual([]);
    const athena = statements.find((s) => JSON.stringify(s.Action).includes('athena:StartQueryExecution'));
    expect(JSON.stringify(athena?.Resource)).toContain('workgroup/');
    const writes = statements.filter((s) => JSON.stringify(s.Action).includes('s3:PutObject'));
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) expect(JSON.stringify(w.Resource)).toContain('athena-results/*');
    const glue = statements.find((s) => JSON.stringify(s.Action).includes('glue:GetTable'));
    expect(JSON.stringify(glue?.Resource)).toContain('shoplake_gold');
    expect(JSON.stringify(glue?.Resource)).not.toContain('shoplake_silver');
  });
});

describe('QuickSight dashboard from the data-set list', () => {
  const dataSets = resourcesOfType(bi, 'AWS::QuickSight::DataSet');
  const dashboard = resourcesOfType(bi, 'AWS::QuickSight::Dashboard')[0];
  const definition = dashboard?.properties.Definition as {
    DataSetIdentifierDeclarations: { Identifier: string; DataSetArn: { 'Fn::GetAtt': [string, string] } }[];
    Sheets: { SheetId: string; Visuals: Record<string, unknown>[]; ParameterControls: unknown[] }[];
    ParameterDeclarations: unknown[];
  };

  it('has one custom-SQL data set per analytics data set, with parameters instead of placeholders', () => {
    expect(dataSets).toHaveLength(ANALYTICS_DATASETS.length);
    for (const d of ANALYTICS_DATASETS) {
      const ds = dataSets.find((x) => x.properties.Name === `shoplake ${d.title}`);
      expect(ds, d.name).toBeDefined();
      const table = Object.values(
        ds?.properties.PhysicalTableMap as Record<
          string,
          { CustomSql: { SqlQuery: string; Columns: { Name: string }[] } }
        >,
      )[0];
      expect(table?.CustomSql.Columns.map((c) => c.Name)).toEqual(d.columns.map((c) => c.name));
      const sql = table?.CustomSql.SqlQuery ?? '';
      expect(sql).toContain('<<$from>>');
      expect(sql).toContain('shoplake_gold.');
      expect(sql.replace(/--.*$/gm, '')).not.toMatch(/:(from|to|category)\b/);
      const params = (
        (ds?.properties.DatasetParameters ?? []) as { StringDatasetParameter: { Name: string } }[]
      ).map((p) => p.StringDatasetParameter.Name);
      expect(params).toEqual([...d.params]);
    }
  });

  it('has the sheets of the local dashboard, each with month-range and category controls', () => {
    expect(definition.Sheets.map((s) => s.SheetId)).toEqual(SHEETS.map((s) => s.id));
    for (const s of definition.Sheets)
      expect(JSON.stringify(s.ParameterControls)).toMatch(/from.*to.*category/s);
    expect(definition.ParameterDeclarations).toHaveLength(3);
  });

  it("every visual's columns exist in its data set", () => {
    const columnsOf = new Map<string, Set<string>>();
    for (const decl of definition.DataSetIdentifierDeclarations) {
      const logicalId = decl.DataSetArn['Fn::GetAtt'][0];
      const ds = dataSets.find((x) => x.logicalId === logicalId);
      const table = Object.values(
        ds?.properties.PhysicalTableMap as Record<string, { CustomSql: { Columns: { Name: string }[] } }>,
      )[0];
      columnsOf.set(decl.Identifier, new Set(table?.CustomSql.Columns.map((c) => c.Name)));
    }
    const refs: { DataSetIdentifier: string; ColumnName: string }[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (typeof o.DataSetIdentifier === 'string' && typeof o.ColumnName === 'string')
          refs.push(o as { DataSetIdentifier: string; ColumnName: string });
        Object.values(o).forEach(walk);
      }
    };
    walk(definition.Sheets);
    expect(refs.length).toBeGreaterThan(40);
    const missing = refs.filter((r) => !columnsOf.get(r.DataSetIdentifier)?.has(r.ColumnName));
    expect(missing).toEqual([]);
    const visualCount = definition.Sheets.reduce((n, s) => n + s.Visuals.length, 0);
    const expected = ANALYTICS_DATASETS.flatMap((d) => d.visuals).reduce(
      (n, v) => n + (v.kind === 'kpi' ? v.values.length : 1),
      0,
    );
    expect(visualCount).toBe(expected);
  });
});
