/** Storage and catalog: lake bucket, Glue databases and Iceberg tables from the catalog, optimizers, Athena. */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ATHENA_DIR } from '../../infra/constructs/paths.ts';
import { LAKE_PREFIXES } from '../../infra/definitions/resources.ts';
import { listSqlFiles, TABLE_OPTIMIZER_TYPES } from '../../infra/stacks/storage-stack.ts';
import {
  databaseName,
  glueDatabaseInputs,
  glueTableInput,
  NAMESPACES,
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

  it("creates every catalog table with exactly the catalog's Iceberg table input", () => {
    const tables = resourcesOfType(app, 'AWS::Glue::Table');
    expect(tables.length).toBe(TABLES.length);
    for (const spec of TABLES) {
      const expected = glueTableInput(spec, { warehouseUri: 's3://<token>/warehouse/' });
      const found = tables.find(
        (t) =>
          t.properties.DatabaseName === expected.DatabaseName &&
          (t.properties.TableInput as { Name: string }).Name === spec.name,
      );
      expect(found, `${spec.namespace}.${spec.name}`).toBeDefined();
      const actual = found?.properties.TableInput as typeof expected.TableInput;
      const { Location, ...descriptor } = actual.StorageDescriptor;
      const { Location: expectedLocation, ...expectedDescriptor } = expected.TableInput.StorageDescriptor;
      expect({ ...actual, StorageDescriptor: descriptor }).toEqual({
        ...expected.TableInput,
        StorageDescriptor: expectedDescriptor,
      });
      expect(joinedText(Location)).toBe(expectedLocation);
      expect(found?.properties.OpenTableFormatInput).toEqual(expected.OpenTableFormatInput);
    }
  });

  it('runs compaction, snapshot retention and orphan-file deletion on every table', () => {
    const optimizers = resourcesOfType(app, 'AWS::Glue::TableOptimizer');
    expect(optimizers.length).toBe(TABLES.length * TABLE_OPTIMIZER_TYPES.length);
    for (const spec of TABLES) {
      const mine = optimizers.filter(
        (o) =>
          o.properties.TableName === spec.name && o.properties.DatabaseName === databaseName(spec.namespace),
      );
      expect(mine.map((o) => o.properties.Type).sort()).toEqual([...TABLE_OPTIMIZER_TYPES].sort());
    }
    storage.hasResourceProperties('AWS::Glue::TableOptimizer', {
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
    storage.hasResourceProperties('AWS::Glue::TableOptimizer', {
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
