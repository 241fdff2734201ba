/**
 * Serving: the DynamoDB tables of `infra/definitions/resources.ts` (on-demand, point-in-time
 * recovery, TTL, customer-managed KMS, RETAIN) and the recommendations Lambda that reads them.
 * The public routes to the Lambda are created by the API stack from `api-routes.ts`.
 *
 * Table logical ids equal the definition ids (`FeaturesTable`, …) so the local runtime can map
 * synthesized resources back to their definitions without guessing.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config.ts';
import { dataRemovalPolicy, secureKey } from '../constructs/secure-defaults.ts';
import { ShoplakeFunction } from '../constructs/shoplake-function.ts';
import { FEATURES_TABLE, RECOMMENDATIONS_TABLE, type TableDefinition } from '../definitions/resources.ts';

/** Handler module of the recommendation routes (relative to `lambdas/`). */
export const RECOMMENDATIONS_HANDLER = 'recommendations/handler.ts';

export interface ServingStackProps extends StackProps {
  readonly config: StageConfig;
}

export class ServingStack extends Stack {
  readonly tableKey: kms.Key;
  readonly featuresTable: dynamodb.Table;
  readonly recommendationsTable: dynamodb.Table;
  readonly recommendationsFunction: ShoplakeFunction;

  constructor(scope: Construct, id: string, props: ServingStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.tableKey = secureKey(this, 'TableKey', config, {
      description: `shoplake ${config.stage} DynamoDB tables`,
    });
    this.featuresTable = this.table(FEATURES_TABLE, config);
    this.recommendationsTable = this.table(RECOMMENDATIONS_TABLE, config);

    const fn = new ShoplakeFunction(this, 'RecommendationsFunction', {
      entry: RECOMMENDATIONS_HANDLER,
      serviceName: 'recommendations',
      description: 'GET recommendations, similar items and trending items',
      config,
      memorySize: 1024,
    });
    this.recommendationsTable.grantReadData(fn.function);
    fn.addEnvironment('RECOMMENDATIONS_TABLE_NAME', this.recommendationsTable.tableName);
    this.featuresTable.grantReadData(fn.function);
    fn.addEnvironment('FEATURES_TABLE_NAME', this.featuresTable.tableName);
    this.recommendationsFunction = fn;
  }

  /** A table built from its definition: the only place key schema and TTL come from. */
  private table(definition: TableDefinition, config: StageConfig): dynamodb.Table {
    // Only the features table (the stream consumer's writes) has a capacity option.
    const capacity =
      definition === FEATURES_TABLE && config.featuresTable.billing === 'provisioned'
        ? config.featuresTable
        : undefined;
    const table = new dynamodb.Table(this, definition.id, {
      partitionKey: attribute(definition.partitionKey),
      sortKey: definition.sortKey ? attribute(definition.sortKey) : undefined,
      ...(capacity
        ? {
            billingMode: dynamodb.BillingMode.PROVISIONED,
            readCapacity: capacity.readUnits.min,
            writeCapacity: capacity.writeUnits.min,
          }
        : { billingMode: dynamodb.BillingMode.PAY_PER_REQUEST }),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: definition.timeToLiveAttribute,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.tableKey,
      deletionProtection: !config.destroyOnRemoval,
      removalPolicy: dataRemovalPolicy(config),
    });
    for (const index of definition.globalSecondaryIndexes ?? []) {
      table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: index.sortKey ? attribute(index.sortKey) : undefined,
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    if (capacity) {
      const target = { targetUtilizationPercent: capacity.targetUtilizationPercent };
      table
        .autoScaleWriteCapacity({
          minCapacity: capacity.writeUnits.min,
          maxCapacity: capacity.writeUnits.max,
        })
        .scaleOnUtilization(target);
      table
        .autoScaleReadCapacity({ minCapacity: capacity.readUnits.min, maxCapacity: capacity.readUnits.max })
        .scaleOnUtilization(target);
    }
    const cfn = table.node.defaultChild;
    if (cfn instanceof dynamodb.CfnTable) cfn.overrideLogicalId(definition.id);
    return table;
  }
}

const ATTRIBUTE_TYPES = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
} as const;

function attribute(key: TableDefinition['partitionKey']): dynamodb.Attribute {
  return { name: key.AttributeName, type: ATTRIBUTE_TYPES[key.AttributeType] };
}
