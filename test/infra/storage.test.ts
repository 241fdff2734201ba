/** Storage and catalog: lake bucket, Glue databases and Iceberg tables from the catalog, optimizers, Athena. */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ATHENA_DIR } from '../../infra/constructs/paths.ts';
import { LAKE_PREFIXES } from '../../infra/definitions/resources.ts';
import { listSqlFiles, TABLE_OPTIMIZER_TYPES } from '../../infra/stacks/storage-stack.ts';
import { glueIcebergTableInput } from '../../lambdas/shared/catalog/glue-iceberg.ts';
import {
  BRONZE_EVENTS,
  databaseName,
  GOLD_DAILY_SALES,
  glueDatabaseInputs,
  NAMESPACES,
  type Namespace,
  TABLES,
} from '../../lambdas/shared/catalog/index.ts';
import { joinedText, resourcesOfType, synth, template } from './helpers.ts';

const app = synth({ stage: 'dev' });
const storage = template(app, 'Storage');
const config = app.config;

describe('lake bucket', () => {
  it('is KMS-encrypted with a bucket key, versioned and access-logged', () => {
    storage.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
            BucketKeyEnabled: true,
          },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'lake/' },
    });
  });

  it('expires quarantine, query results, landing files and old versions per the stage', () => {
    const lake = resourcesOfType(app, 'AWS::S3::Bucket').find((b) => b.logicalId.startsWith('LakeBucket'));
    const rules =
      (lake?.properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] } | undefined)?.Rules ??
      [];
    const byId = Object.fromEntries(rules.map((r) => [r.Id, r]));
    expect(byId.ExpireQuarantine).toMatchObject({
      Prefix: LAKE_PREFIXES.quarantine,
      ExpirationInDays: config.lake.quarantineExpirationDays,
    });
    expect(byId.ExpireAthenaResults).toMatchObject({
      Prefix: LAKE_PREFIXES.athenaResults,
      ExpirationInDays: config.lake.athenaResultsExpirationDays,
    });
    expect(byId.ExpireLanding).toMatchObject({
      Prefix: LAKE_PREFIXES.landingEvents,
      ExpirationInDays: config.lake.landingExpirationDays,
    });
    expect(byId.ExpireNoncurrent).toMatchObject({
      NoncurrentVersionExpiration: { NoncurrentDays: config.lake.noncurrentVersionExpirationDays },
    });
    // Nothing may expire the Iceberg warehouse itself.
    expect(rules.some((r) => String(r.Prefix ?? '').startsWith(LAKE_PREFIXES.warehouse))).toBe(false);
  });
});

describe('Glue catalog', () => {
  it('creates one database per catalog namespace', () => {
    const inputs = glueDatabaseInputs();
    const databases = resourcesOfType(app, 'AWS::Glue::Database').map((d) => d.properties.DatabaseInput);
    expect(databases).toEqual(inputs);
    expect(inputs.map((d) => d.Name)).toEqual(NAMESPACES.map((ns) => databaseName(ns)));
  });

  type IcebergInputJson = {
    MetadataOperation: string;
    Version: string;
    IcebergTableInput: ReturnType<typeof glueIcebergTableInput> & { Location: unknown };
  };
  const glueTable = (namespace: Namespace, name: string) => {
    const found = resourcesOfType(app, 'AWS::Glue::Table').find(
      (t) => t.properties.DatabaseName === databaseName(namespace) && t.properties.Name === name,
    );
    if (!found) throw new Error(`no Glue table ${namespace}.${name}`);
    return found;
  };
  const icebergInputOf = (namespace: Namespace, name: string) =>
    (glueTable(namespace, name).properties.OpenTableFormatInput as { IcebergInput: IcebergInputJson })
      .IcebergInput;

  it("creates every catalog table from exactly the catalog's Iceberg table input (no Hive TableInput)", () => {
    const tables = resourcesOfType(app, 'AWS::Glue::Table');
    expect(tables.length).toBe(TABLES.length);
    for (const spec of TABLES) {
      const expected = glueIcebergTableInput(spec, { warehouseUri: 's3://<token>/warehouse/' });
      const found = glueTable(spec.namespace, spec.name);
      expect(found.properties.TableInput, `${spec.namespace}.${spec.name}`).toBeUndefined();
      const iceberg = icebergInputOf(spec.namespace, spec.name);
      expect(iceberg.MetadataOperation).toBe('CREATE');
      expect(iceberg.Version).toBe('2');
      const { Location, ...rest } = iceberg.IcebergTableInput;
      const { Location: expectedLocation, ...expectedRest } = expected;
      expect(rest, `${spec.namespace}.${spec.name}`).toEqual(expectedRest);
      expect(joinedText(Location)).toBe(expectedLocation);
    }
  });

  it('creates tables partitioned and sorted as the catalog says, with its field ids', () => {
    const bronze = icebergInputOf('bronze', 'events').IcebergTableInput;
    const eventTime = BRONZE_EVENTS.columns.find((c) => c.name === 'event_time');
    expect(eventTime?.id).toBe(4);
    expect(bronze.Schema.Fields.map((f) => [f.Id, f.Name])).toEqual(
      BRONZE_EVENTS.columns.map((c) => [c.id, c.name]),
    );
    expect(bronze.Schema.Fields.find((f) => f.Name === 'event_time')).toMatchObject({
      Type: 'timestamptz',
      Required: true,
    });
    expect(bronze.PartitionSpec).toEqual({
      SpecId: 0,
      Fields: [{ SourceId: 4, FieldId: 1000, Name: 'event_time_day', Transform: 'day' }],
    });
    expect(bronze.WriteOrder).toEqual({
      OrderId: 1,
      Fields: [{ SourceId: 4, Transform: 'identity', Direction: 'asc', NullOrder: 'nulls-first' }],
    });
    // Nested types: the Iceberg spec JSON (with nested field ids), JSON-encoded.
    const items = bronze.Schema.Fields.find((f) => f.Name === 'items');
    const itemsType = JSON.parse(items?.Type ?? 'null') as { type: string; 'element-id': number };
    expect(itemsType.type).toBe('list');
    // Nested ids do not collide with any top-level field id.
    expect(bronze.Schema.Fields.map((f) => f.Id)).not.toContain(itemsType['element-id']);
    expect(itemsType['element-id']).toBeGreaterThan(0);
    expect(
      JSON.parse(bronze.Schema.Fields.find((f) => f.Name === 'attributes')?.Type ?? 'null'),
    ).toMatchObject({
      type: 'map',
      key: 'string',
      value: 'string',
    });
    expect(bronze.Properties).toMatchObject({
      'write.format.default': 'parquet',
      comment: BRONZE_EVENTS.description,
    });
    expect(bronze.Properties['format-version']).toBeUndefined();

    const daily = icebergInputOf('gold', GOLD_DAILY_SALES.name).IcebergTableInput;
    expect(daily.PartitionSpec.Fields.map((f) => f.Transform)).toEqual(
      GOLD_DAILY_SALES.partitionSpec.map((p) => p.transform),
    );
  });

  it('runs compaction, snapshot retention and orphan-file deletion on every table when the stage uses Glue optimizers', () => {
    // dev maintains its tables from the ETL (cost option); -c glueTableOptimizers=true turns them on.
    const withOptimizers = synth({ stage: 'dev', context: { glueTableOptimizers: 'true' } });
    const optimizerStorage = template(withOptimizers, 'Storage');
    const optimizers = resourcesOfType(withOptimizers, 'AWS::Glue::TableOptimizer');
    expect(optimizers.length).toBe(TABLES.length * TABLE_OPTIMIZER_TYPES.length);
    for (const spec of TABLES) {
      const mine = optimizers.filter(
        (o) =>
          o.properties.TableName === spec.name && o.properties.DatabaseName === databaseName(spec.namespace),
      );
      expect(mine.map((o) => o.properties.Type).sort()).toEqual([...TABLE_OPTIMIZER_TYPES].sort());
    }
    optimizerStorage.hasResourceProperties('AWS::Glue::TableOptimizer', {
      Type: 'retention',
      TableOptimizerConfiguration: {
        Enabled: true,
        RetentionConfiguration: {
          IcebergConfiguration: {
            SnapshotRetentionPeriodInDays: config.icebergMaintenance.snapshotRetentionDays,
            NumberOfSnapshotsToRetain: config.icebergMaintenance.numberOfSnapshotsToRetain,
            CleanExpiredFiles: true,
          },
        },
      },
    });
    optimizerStorage.hasResourceProperties('AWS::Glue::TableOptimizer', {
      Type: 'orphan_file_deletion',
      TableOptimizerConfiguration: {
        OrphanFileDeletionConfiguration: {
          IcebergConfiguration: {
            OrphanFileRetentionPeriodInDays: config.icebergMaintenance.orphanFileRetentionDays,
          },
        },
      },
    });
  });
});

describe('Athena', () => {
  it('enforces the workgroup settings, encrypted results and the scan limit', () => {
    storage.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'shoplake-dev',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: config.athena.bytesScannedCutoffPerQuery,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() },
        },
      },
    });
  });

  it('stores every athena/*.sql file as a named query with its exact text', () => {
    const files = listSqlFiles(ATHENA_DIR);
    expect(files.length).toBeGreaterThan(0);
    const queries = resourcesOfType(app, 'AWS::Athena::NamedQuery');
    const byName = Object.fromEntries(queries.map((q) => [q.properties.Name, q.properties]));
    expect(Object.keys(byName).sort()).toEqual(files.map((f) => relative(ATHENA_DIR, f)).sort());
    for (const file of files) {
      const q = byName[relative(ATHENA_DIR, file)];
      expect(q?.QueryString).toBe(readFileSync(file, 'utf8'));
      expect(q?.WorkGroup).toEqual({ Ref: expect.stringMatching(/^WorkGroup/) });
    }
  });
});
