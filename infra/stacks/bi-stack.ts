/**
 * BI: QuickSight data source (Athena, the stage's workgroup), one direct-query data set per
 * gold table of the catalog, and the monthly business dashboard. Created only when the stage
 * names a QuickSight principal (QuickSight needs an account subscription, which CloudFormation
 * cannot create); that principal owns everything here.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as quicksight from 'aws-cdk-lib/aws-quicksight';
import type { Construct } from 'constructs';
import type { ColumnSpec } from '../../lambdas/shared/catalog/index.ts';
import type { StageConfig } from '../config/stage-config.ts';
import type { CatalogTable, LakeCatalog } from '../constructs/lake-catalog.ts';
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

export interface BiStackProps extends StackProps {
  readonly config: StageConfig;
  readonly quicksightPrincipalArn: string;
  readonly workGroupName: string;
  readonly catalog: LakeCatalog;
}

/** QuickSight input column type of an Iceberg column; nested types are not offered to BI. */
export function quicksightColumnType(column: ColumnSpec): string | undefined {
  switch (column.type) {
    case 'string':
      return 'STRING';
    case 'int':
    case 'long':
      return 'INTEGER';
    case 'double':
      return 'DECIMAL';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
    case 'timestamptz':
      return 'DATETIME';
    default:
      // Money columns are Iceberg decimals (`decimal(p,s)`): QuickSight's DECIMAL.
      return typeof column.type === 'string' && column.type.startsWith('decimal(') ? 'DECIMAL' : undefined;
  }
}

export class BiStack extends Stack {
  readonly dataSource: quicksight.CfnDataSource;
  readonly dataSets: Readonly<Record<string, quicksight.CfnDataSet>>;
  readonly dashboard: quicksight.CfnDashboard;

  constructor(scope: Construct, id: string, props: BiStackProps) {
    super(scope, id, props);
    const { config, catalog } = props;
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
    for (const table of catalog.tables.filter((t) => t.spec.namespace === 'gold')) {
      dataSets[table.tableName] = this.dataSet(table, prefix, owner(DATA_SET_ACTIONS));
    }
    this.dataSets = dataSets;

    const kpis = requireDataSet(dataSets, 'monthly_kpis');
    const categories = requireDataSet(dataSets, 'category_revenue');
    const products = requireDataSet(dataSets, 'top_products');
    const col = (dataSetIdentifier: string, columnName: string) => ({ dataSetIdentifier, columnName });
    const month = (ds: string, fieldId: string) => ({
      dateDimensionField: { fieldId, column: col(ds, 'month'), dateGranularity: 'MONTH' },
    });
    const sum = (ds: string, column: string, fieldId: string) => ({
      numericalMeasureField: {
        fieldId,
        column: col(ds, column),
        aggregationFunction: { simpleNumericalAggregation: 'SUM' },
      },
    });
    const avg = (ds: string, column: string, fieldId: string) => ({
      numericalMeasureField: {
        fieldId,
        column: col(ds, column),
        aggregationFunction: { simpleNumericalAggregation: 'AVERAGE' },
      },
    });
    const title = (text: string) => ({ visibility: 'VISIBLE', formatText: { plainText: text } });
    const line = (visualId: string, text: string, values: object[]) => ({
      lineChartVisual: {
        visualId,
        title: title(text),
        chartConfiguration: {
          fieldWells: {
            lineChartAggregatedFieldWells: { category: [month('kpis', `${visualId}-month`)], values },
          },
        },
      },
    });

    this.dashboard = new quicksight.CfnDashboard(this, 'MonthlyDashboard', {
      awsAccountId: this.account,
      dashboardId: `${prefix}-monthly`,
      name: `shoplake ${config.stage}: monthly business`,
      permissions: owner(DASHBOARD_ACTIONS),
      dashboardPublishOptions: { adHocFilteringOption: { availabilityStatus: 'ENABLED' } },
      definition: {
        dataSetIdentifierDeclarations: [
          { identifier: 'kpis', dataSetArn: kpis.attrArn },
          { identifier: 'categories', dataSetArn: categories.attrArn },
          { identifier: 'products', dataSetArn: products.attrArn },
        ],
        sheets: [
          {
            sheetId: 'monthly',
            name: 'Monthly business',
            visuals: [
              line('revenue', 'Revenue and net revenue', [
                sum('kpis', 'revenue', 'revenue-sum'),
                sum('kpis', 'net_revenue', 'net-sum'),
              ]),
              line('orders', 'Orders and units', [
                sum('kpis', 'orders', 'orders-sum'),
                sum('kpis', 'units', 'units-sum'),
              ]),
              line('aov', 'Average order value', [avg('kpis', 'avg_order_value', 'aov-avg')]),
              line('customers', 'Active, new and returning customers', [
                sum('kpis', 'active_customers', 'active-sum'),
                sum('kpis', 'new_customers', 'new-sum'),
                sum('kpis', 'returning_customers', 'returning-sum'),
              ]),
              line('rates', 'Conversion and cancellation rate', [
                avg('kpis', 'conversion_rate', 'conversion-avg'),
                avg('kpis', 'cancellation_rate', 'cancellation-avg'),
              ]),
              {
                barChartVisual: {
                  visualId: 'category-revenue',
                  title: title('Revenue by category'),
                  chartConfiguration: {
                    fieldWells: {
                      barChartAggregatedFieldWells: {
                        category: [
                          {
                            categoricalDimensionField: {
                              fieldId: 'category',
                              column: col('categories', 'category'),
                            },
                          },
                        ],
                        values: [sum('categories', 'revenue', 'category-revenue-sum')],
                      },
                    },
                  },
                },
              },
              {
                tableVisual: {
                  visualId: 'top-products',
                  title: title('Top products'),
                  chartConfiguration: {
                    fieldWells: {
                      tableAggregatedFieldWells: {
                        groupBy: [
                          {
                            categoricalDimensionField: {
                              fieldId: 'product',
                              column: col('products', 'product_id'),
                            },
                          },
                          {
                            categoricalDimensionField: {
                              fieldId: 'product-category',
                              column: col('products', 'category'),
                            },
                          },
                        ],
                        values: [
                          sum('products', 'revenue', 'product-revenue-sum'),
                          sum('products', 'units', 'product-units-sum'),
                        ],
                      },
                    },
                  },
                },
              },
            ],
          },
        ],
      },
    });
    for (const ds of [kpis, categories, products]) this.dashboard.addResourceDependency(ds);
  }

  private dataSet(
    table: CatalogTable,
    prefix: string,
    permissions: { principal: string; actions: string[] }[],
  ): quicksight.CfnDataSet {
    const inputColumns = table.spec.columns.flatMap((c) => {
      const type = quicksightColumnType(c);
      return type ? [{ name: c.name, type }] : [];
    });
    const dataSet = new quicksight.CfnDataSet(this, `${pascalCase(table.tableName)}DataSet`, {
      awsAccountId: this.account,
      dataSetId: `${prefix}-gold-${table.tableName.replaceAll('_', '-')}`,
      name: `gold.${table.tableName}`,
      importMode: 'DIRECT_QUERY',
      permissions,
      physicalTableMap: {
        // Map keys allow only letters, digits and dashes.
        [table.tableName.replaceAll('_', '-')]: {
          relationalTable: {
            dataSourceArn: this.dataSource.attrArn,
            catalog: 'AwsDataCatalog',
            schema: table.databaseName,
            name: table.tableName,
            inputColumns,
          },
        },
      },
    });
    dataSet.addResourceDependency(this.dataSource);
    return dataSet;
  }
}

function requireDataSet(
  dataSets: Record<string, quicksight.CfnDataSet>,
  name: string,
): quicksight.CfnDataSet {
  const ds = dataSets[name];
  if (!ds) throw new Error(`BI dashboard needs gold.${name}, which the lake catalog does not define`);
  return ds;
}
