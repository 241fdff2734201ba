/**
 * BI: the QuickSight monthly business dashboard, built from the same data-set list as the local
 * web dashboard and the analytics API (`lambdas/shared/analytics/datasets.ts`): one direct-query
 * custom-SQL data set per analytics query (the `athena/analytics_*.sql` text, namespaces mapped
 * to the stage's Glue databases, `:from`/`:to`/`:category` mapped to QuickSight dataset
 * parameters), and one dashboard with the same sheets, visuals and controls (month range,
 * category). Created only when the stage names a QuickSight principal (QuickSight needs an
 * account subscription, which CloudFormation cannot create); that principal owns everything here.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as quicksight from 'aws-cdk-lib/aws-quicksight';
import type { Construct } from 'constructs';
import {
  ANALYTICS_DATASETS,
  type AnalyticsDataset,
  type AnalyticsParam,
  type ColumnKind,
  type DatasetVisual,
  SHEETS,
} from '../../lambdas/shared/analytics/datasets.ts';
import { ANALYTICS_SQL } from '../../lambdas/shared/analytics/sql.generated.ts';
import { DEFAULT_DATABASE_PREFIX } from '../../lambdas/shared/catalog/index.ts';
import { qualifyNamespaces, tokenize } from '../../lambdas/shared/catalog/sql.ts';
import type { StageConfig } from '../config/stage-config.ts';
import { pascalCase } from '../constructs/state-machine-files.ts';

/** Owner permissions on the data source, data sets and dashboard. */
export const DATA_SOURCE_ACTIONS = [
  'quicksight:DescribeDataSource',
  'quicksight:DescribeDataSourcePermissions',
  'quicksight:PassDataSource',
  'quicksight:UpdateDataSource',
  'quicksight:DeleteDataSource',
  'quicksight:UpdateDataSourcePermissions',
];
export const DATA_SET_ACTIONS = [
  'quicksight:DescribeDataSet',
  'quicksight:DescribeDataSetPermissions',
  'quicksight:PassDataSet',
  'quicksight:DescribeIngestion',
  'quicksight:ListIngestions',
  'quicksight:UpdateDataSet',
  'quicksight:DeleteDataSet',
  'quicksight:CreateIngestion',
  'quicksight:CancelIngestion',
  'quicksight:UpdateDataSetPermissions',
];
export const DASHBOARD_ACTIONS = [
  'quicksight:DescribeDashboard',
  'quicksight:ListDashboardVersions',
  'quicksight:UpdateDashboardPermissions',
  'quicksight:QueryDashboard',
  'quicksight:UpdateDashboard',
  'quicksight:DeleteDashboard',
  'quicksight:DescribeDashboardPermissions',
  'quicksight:UpdateDashboardPublishedVersion',
];

/**
 * Dashboard parameters (= dataset parameters) and their defaults: the month bounds are the
 * first day of a month as `YYYY-MM-DD`; `CATEGORY_ALL` stands for "every category" (the SQL
 * receives NULL for it, as the analytics API sends for an absent `category`).
 */
export const CATEGORY_ALL = '(all)';
export const QUICKSIGHT_PARAMETER_DEFAULTS: Readonly<Record<AnalyticsParam, string>> = {
  from: '1970-01-01',
  to: '9999-12-01',
  category: CATEGORY_ALL,
};

export interface BiStackProps extends StackProps {
  readonly config: StageConfig;
  readonly quicksightPrincipalArn: string;
  readonly workGroupName: string;
}

/** QuickSight input column type of a data-set column kind. */
export function quicksightColumnType(kind: ColumnKind): string {
  switch (kind) {
    case 'date':
      return 'DATETIME';
    case 'string':
      return 'STRING';
    case 'integer':
      return 'INTEGER';
    default:
      return 'DECIMAL';
  }
}

/**
 * The custom SQL QuickSight runs for a data set: the analytics query with physical Glue
 * database names and `:name` placeholders replaced by dataset parameters (`<<$name>>`);
 * `:category` becomes NULL for `CATEGORY_ALL`.
 */
export function quicksightSql(dataset: AnalyticsDataset, databasePrefix = DEFAULT_DATABASE_PREFIX): string {
  const sql = ANALYTICS_SQL[dataset.name];
  if (sql === undefined) throw new Error(`no SQL for data set ${dataset.name}`);
  const qualified = qualifyNamespaces(sql, databasePrefix);
  let out = '';
  let at = 0;
  for (const t of tokenize(qualified)) {
    if (t.type !== 'param') continue;
    const name = t.text.slice(1);
    const replacement = name === 'category' ? `NULLIF(<<$category>>, '${CATEGORY_ALL}')` : `<<$${name}>>`;
    out += qualified.slice(at, t.start) + replacement;
    at = t.end;
  }
  return out + qualified.slice(at);
}

/** `monthly_kpis` → `monthly-kpis` (QuickSight ids and map keys allow letters, digits, dashes). */
const dashed = (s: string) => s.replaceAll('_', '-');

export class BiStack extends Stack {
  readonly dataSource: quicksight.CfnDataSource;
  readonly dataSets: Readonly<Record<string, quicksight.CfnDataSet>>;
  readonly dashboard: quicksight.CfnDashboard;

  constructor(scope: Construct, id: string, props: BiStackProps) {
    super(scope, id, props);
    const { config } = props;
    const prefix = `shoplake-${config.stage}`;
    const owner = (actions: string[]) => [{ principal: props.quicksightPrincipalArn, actions }];

    this.dataSource = new quicksight.CfnDataSource(this, 'AthenaDataSource', {
      awsAccountId: this.account,
      dataSourceId: `${prefix}-athena`,
      name: `shoplake ${config.stage} (Athena)`,
      type: 'ATHENA',
      dataSourceParameters: { athenaParameters: { workGroup: props.workGroupName } },
      sslProperties: { disableSsl: false },
      permissions: owner(DATA_SOURCE_ACTIONS),
    });

    const dataSets: Record<string, quicksight.CfnDataSet> = {};
    for (const dataset of ANALYTICS_DATASETS) {
      dataSets[dataset.name] = this.dataSet(dataset, prefix, owner(DATA_SET_ACTIONS));
    }
    this.dataSets = dataSets;

    const usedBy = (param: AnalyticsParam) => ANALYTICS_DATASETS.filter((d) => d.params.includes(param));
    const parameterDeclarations = (['from', 'to', 'category'] as const).map((param) => ({
      stringParameterDeclaration: {
        name: param,
        parameterValueType: 'SINGLE_VALUED',
        defaultValues: { staticValues: [QUICKSIGHT_PARAMETER_DEFAULTS[param]] },
        mappedDataSetParameters: usedBy(param).map((d) => ({
          dataSetIdentifier: d.name,
          dataSetParameterName: param,
        })),
      },
    }));

    this.dashboard = new quicksight.CfnDashboard(this, 'MonthlyDashboard', {
      awsAccountId: this.account,
      dashboardId: `${prefix}-monthly`,
      name: `shoplake ${config.stage}: monthly business`,
      permissions: owner(DASHBOARD_ACTIONS),
      dashboardPublishOptions: { adHocFilteringOption: { availabilityStatus: 'ENABLED' } },
      definition: {
        dataSetIdentifierDeclarations: ANALYTICS_DATASETS.map((d) => ({
          identifier: d.name,
          dataSetArn: requireDataSet(dataSets, d.name).attrArn,
        })),
        parameterDeclarations,
        sheets: SHEETS.map((sheet) => ({
          sheetId: sheet.id,
          name: sheet.title,
          parameterControls: sheetControls(sheet.id),
          visuals: ANALYTICS_DATASETS.flatMap((d) =>
            d.visuals.filter((v) => v.sheet === sheet.id).flatMap((v) => quicksightVisuals(d, v)),
          ),
        })),
      },
    });
    for (const ds of Object.values(dataSets)) this.dashboard.addResourceDependency(ds);
  }

  private dataSet(
    dataset: AnalyticsDataset,
    prefix: string,
    permissions: { principal: string; actions: string[] }[],
  ): quicksight.CfnDataSet {
    const cfn = new quicksight.CfnDataSet(this, `${pascalCase(dataset.name)}DataSet`, {
      awsAccountId: this.account,
      dataSetId: `${prefix}-${dashed(dataset.name)}`,
      name: `shoplake ${dataset.title}`,
      importMode: 'DIRECT_QUERY',
      permissions,
      physicalTableMap: {
        [dashed(dataset.name)]: {
          customSql: {
            dataSourceArn: this.dataSource.attrArn,
            name: dataset.name,
            sqlQuery: quicksightSql(dataset),
            columns: dataset.columns.map((c) => ({ name: c.name, type: quicksightColumnType(c.kind) })),
          },
        },
      },
      datasetParameters: dataset.params.map((param) => ({
        stringDatasetParameter: {
          id: `${dashed(dataset.name)}-${param}`,
          name: param,
          valueType: 'SINGLE_VALUED',
          defaultValues: { staticValues: [QUICKSIGHT_PARAMETER_DEFAULTS[param]] },
        },
      })),
    });
    cfn.addResourceDependency(this.dataSource);
    return cfn;
  }
}

/** Month-range and category controls of a sheet, bound to the dashboard parameters. */
function sheetControls(sheetId: string): quicksight.CfnDashboard.ParameterControlProperty[] {
  return [
    {
      textField: {
        parameterControlId: `${sheetId}-from`,
        title: 'From month (YYYY-MM-01)',
        sourceParameterName: 'from',
      },
    },
    {
      textField: {
        parameterControlId: `${sheetId}-to`,
        title: 'To month (YYYY-MM-01)',
        sourceParameterName: 'to',
      },
    },
    {
      dropdown: {
        parameterControlId: `${sheetId}-category`,
        title: 'Category',
        sourceParameterName: 'category',
        type: 'SINGLE_SELECT',
        selectableValues: {
          linkToDataSetColumn: { dataSetIdentifier: 'categories', columnName: 'category' },
        },
      },
    },
  ];
}

const col = (dataSetIdentifier: string, columnName: string) => ({ dataSetIdentifier, columnName });
const title = (text: string) => ({ visibility: 'VISIBLE', formatText: { plainText: text } });

function dimension(
  dataset: AnalyticsDataset,
  column: string,
  fieldId: string,
): quicksight.CfnDashboard.DimensionFieldProperty {
  const kind = dataset.columns.find((c) => c.name === column)?.kind;
  return kind === 'date'
    ? { dateDimensionField: { fieldId, column: col(dataset.name, column), dateGranularity: 'MONTH' } }
    : { categoricalDimensionField: { fieldId, column: col(dataset.name, column) } };
}

function measure(
  dataset: AnalyticsDataset,
  column: string,
  fieldId: string,
): quicksight.CfnDashboard.MeasureFieldProperty {
  const kind = dataset.columns.find((c) => c.name === column)?.kind;
  // One row per month (or per month and series): SUM shows the row's value; rates average.
  return {
    numericalMeasureField: {
      fieldId,
      column: col(dataset.name, column),
      aggregationFunction: { simpleNumericalAggregation: kind === 'rate' ? 'AVERAGE' : 'SUM' },
    },
  };
}

/** The QuickSight visual(s) of one visual of the data-set list (a KPI group is one KPI each). */
export function quicksightVisuals(
  dataset: AnalyticsDataset,
  visual: DatasetVisual,
): quicksight.CfnDashboard.VisualProperty[] {
  const id = visual.id;
  const values = visual.values.map((v) => measure(dataset, v, `${id}-${v}`));
  switch (visual.kind) {
    case 'kpi':
      return visual.values.map((v) => ({
        kpiVisual: {
          visualId: `${id}-${dashed(v)}`,
          title: title(dataset.columns.find((c) => c.name === v)?.label ?? v),
          chartConfiguration: {
            fieldWells: {
              values: [measure(dataset, v, `${id}-${v}`)],
              trendGroups: [dimension(dataset, 'month', `${id}-${v}-month`)],
            },
          },
        },
      }));
    case 'line':
      return [
        {
          lineChartVisual: {
            visualId: id,
            title: title(visual.title),
            chartConfiguration: {
              fieldWells: {
                lineChartAggregatedFieldWells: {
                  category: [dimension(dataset, visual.x ?? 'month', `${id}-x`)],
                  values,
                  ...(visual.seriesBy
                    ? { colors: [dimension(dataset, visual.seriesBy, `${id}-series`)] }
                    : {}),
                },
              },
            },
          },
        },
      ];
    case 'bar':
    case 'funnel':
      // The funnel's steps are columns (sessions, viewed, carted…): a horizontal bar of their sums.
      return [
        {
          barChartVisual: {
            visualId: id,
            title: title(visual.title),
            chartConfiguration: {
              orientation: visual.kind === 'funnel' ? 'HORIZONTAL' : 'VERTICAL',
              barsArrangement: visual.seriesBy ? 'STACKED' : 'CLUSTERED',
              fieldWells: {
                barChartAggregatedFieldWells: {
                  category: visual.x ? [dimension(dataset, visual.x, `${id}-x`)] : [],
                  values,
                  ...(visual.seriesBy
                    ? { colors: [dimension(dataset, visual.seriesBy, `${id}-series`)] }
                    : {}),
                },
              },
            },
          },
        },
      ];
    case 'table':
      return [
        {
          tableVisual: {
            visualId: id,
            title: title(visual.title),
            chartConfiguration: {
              fieldWells: {
                tableUnaggregatedFieldWells: {
                  values: visual.values.map((v) => ({ fieldId: `${id}-${v}`, column: col(dataset.name, v) })),
                },
              },
            },
          },
        },
      ];
  }
}

function requireDataSet(
  dataSets: Record<string, quicksight.CfnDataSet>,
  name: string,
): quicksight.CfnDataSet {
  const ds = dataSets[name];
  if (!ds) throw new Error(`BI dashboard needs data set ${name}`);
  return ds;
}
