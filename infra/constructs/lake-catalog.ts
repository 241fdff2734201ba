/**
 * Glue databases and Iceberg tables generated from the lake table catalog
 * (`lambdas/shared/catalog/`): the catalog's `glueDatabaseInputs()` / `glueTableInput()` give
 * names, and `glueIcebergTableInput()` the Iceberg schema (catalog field ids), partition spec,
 * write order, location and properties, mapped one-to-one onto `AWS::Glue::Database` /
 * `AWS::Glue::Table`.
 *
 * Tables are created with `Name` + `OpenTableFormatInput.IcebergInput.IcebergTableInput` and
 * no `TableInput`: Glue creates the Iceberg metadata (partitioned, sorted) itself, and a
 * `TableInput` next to it would be a second, Hive-style description of the same table that a
 * later stack update could write back over the Iceberg parameters (`table_type`,
 * `metadata_location`).
 */
import { Aws, type Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import {
  type GlueIcebergTableInput,
  glueIcebergTableInput,
} from '../../lambdas/shared/catalog/glue-iceberg.ts';
import {
  BRONZE_EVENTS,
  databaseName,
  type GlueIcebergTable,
  glueDatabaseInputs,
  glueTableInput,
  NAMESPACES,
  type Namespace,
  TABLES,
  type TableSpec,
} from '../../lambdas/shared/catalog/index.ts';
import type { StageConfig } from '../config/stage-config.ts';
import { dataRemovalPolicy } from './secure-defaults.ts';
import { pascalCase } from './state-machine-files.ts';

export interface CatalogTable {
  readonly spec: TableSpec;
  /** Construct id stem, e.g. `SilverEvents`. */
  readonly constructId: string;
  readonly databaseName: string;
  readonly tableName: string;
  readonly databaseArn: string;
  readonly tableArn: string;
  /** The catalog's Glue input of the table (names, Hive-style columns for reference). */
  readonly input: GlueIcebergTable;
  /** The Iceberg table input the table is created from (schema, partition spec, write order). */
  readonly icebergTableInput: GlueIcebergTableInput;
  readonly resource: glue.CfnTable;
}

export interface LakeCatalog {
  readonly databases: Readonly<Record<Namespace, glue.CfnDatabase>>;
  readonly databaseNames: Readonly<Record<Namespace, string>>;
  readonly tables: readonly CatalogTable[];
  readonly databaseArns: readonly string[];
  readonly tableArns: readonly string[];
  /** Database named queries run in unless they qualify table names (silver). */
  readonly defaultDatabaseName: string;
  /** The table Firehose delivers raw events into. */
  readonly bronzeEvents: CatalogTable;
  /** A table by namespace and name; throws when the catalog has no such table. */
  table(namespace: Namespace, name: string): CatalogTable;
}

/** Thrown when the stacks ask for a table the catalog does not define. */
export class UnknownCatalogTableError extends Error {
  constructor(readonly qualifiedName: string) {
    super(`table ${qualifiedName} is not in the lake catalog (lambdas/shared/catalog/tables.ts)`);
    this.name = 'UnknownCatalogTableError';
  }
}

/** Creates every database and table of the catalog in `stack`. */
export function lakeCatalog(
  stack: Stack,
  id: string,
  props: { readonly config: StageConfig; readonly warehouseUri: string },
): LakeCatalog {
  const removalPolicy = dataRemovalPolicy(props.config);
  const databases = {} as Record<Namespace, glue.CfnDatabase>;
  const databaseNames = {} as Record<Namespace, string>;
  const inputs = glueDatabaseInputs();
  NAMESPACES.forEach((namespace, index) => {
    const input = inputs[index];
    if (input === undefined || input.Name !== databaseName(namespace)) {
      throw new Error(`catalog database inputs are not in namespace order at ${namespace}`);
    }
    const database = new glue.CfnDatabase(stack, `${id}${pascalCase(namespace)}Database`, {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: input.Name, description: input.Description },
    });
    database.applyRemovalPolicy(removalPolicy);
    databases[namespace] = database;
    databaseNames[namespace] = input.Name;
  });

  const tables: CatalogTable[] = TABLES.map((spec) => {
    const input = glueTableInput(spec, { warehouseUri: props.warehouseUri });
    const constructId = pascalCase(`${spec.namespace}_${spec.name}`);
    const t = input.TableInput;
    const iceberg = glueIcebergTableInput(spec, { warehouseUri: props.warehouseUri });
    const resource = new glue.CfnTable(stack, `${id}${constructId}Table`, {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: input.DatabaseName,
      name: t.Name,
      openTableFormatInput: {
        icebergInput: {
          metadataOperation: input.OpenTableFormatInput.IcebergInput.MetadataOperation,
          version: input.OpenTableFormatInput.IcebergInput.Version,
          icebergTableInput: {
            location: iceberg.Location,
            schema: {
              schemaId: iceberg.Schema.SchemaId,
              type: iceberg.Schema.Type,
              fields: iceberg.Schema.Fields.map((f) => ({
                id: f.Id,
                name: f.Name,
                type: f.Type,
                required: f.Required,
                doc: f.Doc,
              })),
            },
            partitionSpec: {
              specId: iceberg.PartitionSpec.SpecId,
              fields: iceberg.PartitionSpec.Fields.map((p) => ({
                sourceId: p.SourceId,
                fieldId: p.FieldId,
                name: p.Name,
                transform: p.Transform,
              })),
            },
            writeOrder: {
              orderId: iceberg.WriteOrder.OrderId,
              fields: iceberg.WriteOrder.Fields.map((o) => ({
                sourceId: o.SourceId,
                transform: o.Transform,
                direction: o.Direction,
                nullOrder: o.NullOrder,
              })),
            },
            properties: iceberg.Properties,
          },
        },
      },
    });
    resource.applyRemovalPolicy(removalPolicy);
    resource.addResourceDependency(databases[spec.namespace]);
    return {
      spec,
      constructId,
      databaseName: input.DatabaseName,
      tableName: t.Name,
      databaseArn: stack.formatArn({
        service: 'glue',
        resource: 'database',
        resourceName: input.DatabaseName,
      }),
      tableArn: stack.formatArn({
        service: 'glue',
        resource: 'table',
        resourceName: `${input.DatabaseName}/${t.Name}`,
      }),
      input,
      icebergTableInput: iceberg,
      resource,
    };
  });

  const find = (namespace: Namespace, name: string): CatalogTable => {
    const found = tables.find((t) => t.spec.namespace === namespace && t.spec.name === name);
    if (!found) throw new UnknownCatalogTableError(`${namespace}.${name}`);
    return found;
  };

  return {
    databases,
    databaseNames,
    tables,
    databaseArns: NAMESPACES.map((ns) =>
      stack.formatArn({ service: 'glue', resource: 'database', resourceName: databaseNames[ns] }),
    ),
    tableArns: tables.map((t) => t.tableArn),
    defaultDatabaseName: databaseNames.silver,
    bronzeEvents: find(BRONZE_EVENTS.namespace, BRONZE_EVENTS.name),
    table: find,
  };
}
