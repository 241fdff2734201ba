/**
 * Glue databases and Iceberg tables generated from the lake table catalog
 * (`lambdas/shared/catalog/`): the catalog's `glueDatabaseInputs()` / `glueTableInput()` are the
 * only source of names, columns, locations and parameters, mapped one-to-one onto
 * `AWS::Glue::Database` / `AWS::Glue::Table` (with `OpenTableFormatInput` for Iceberg).
 */
import { Aws, type Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
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

export interface CatalogTable {
  readonly spec: TableSpec;
  /** Construct id stem, e.g. `SilverEvents`. */
  readonly constructId: string;
  readonly databaseName: string;
  readonly tableName: string;
  readonly databaseArn: string;
  readonly tableArn: string;
  /** The input the table was created from (as the catalog generated it). */
  readonly input: GlueIcebergTable;
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
    const database = new glue.CfnDatabase(stack, `${id}${pascalWord(namespace)}Database`, {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: input.Name, description: input.Description },
    });
    database.applyRemovalPolicy(removalPolicy);
    databases[namespace] = database;
    databaseNames[namespace] = input.Name;
  });

  const tables: CatalogTable[] = TABLES.map((spec) => {
    const input = glueTableInput(spec, { warehouseUri: props.warehouseUri });
    const constructId = `${pascalWord(spec.namespace)}${spec.name.split('_').map(pascalWord).join('')}`;
    const t = input.TableInput;
    const resource = new glue.CfnTable(stack, `${id}${constructId}Table`, {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: input.DatabaseName,
      tableInput: {
        name: t.Name,
        description: t.Description,
        tableType: t.TableType,
        parameters: t.Parameters,
        storageDescriptor: {
          location: t.StorageDescriptor.Location,
          columns: t.StorageDescriptor.Columns.map((c) => ({
            name: c.Name,
            type: c.Type,
            comment: c.Comment,
          })),
        },
      },
      openTableFormatInput: {
        icebergInput: {
          metadataOperation: input.OpenTableFormatInput.IcebergInput.MetadataOperation,
          version: input.OpenTableFormatInput.IcebergInput.Version,
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

function pascalWord(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
