import { describe, expect, it } from 'vitest';
import { glueIcebergTableInput } from '../../lambdas/shared/catalog/glue-iceberg.ts';
import { icebergSchema, SILVER_EVENTS, TABLES } from '../../lambdas/shared/catalog/index.ts';

const WAREHOUSE = 's3://lake/warehouse/';

describe('Glue IcebergTableInput from the catalog', () => {
  it('carries every table’s field ids, partition spec and sort order, referencing real field ids', () => {
    for (const table of TABLES) {
      const input = glueIcebergTableInput(table, { warehouseUri: WAREHOUSE });
      const ids = new Map(input.Schema.Fields.map((f) => [f.Id, f.Name]));
      const label = `${table.namespace}.${table.name}`;

      expect(
        input.Schema.Fields.map((f) => [f.Id, f.Name, f.Required]),
        label,
      ).toEqual(table.columns.map((c) => [c.id, c.name, c.required]));
      expect(
        input.PartitionSpec.Fields.map((p) => [ids.get(p.SourceId), p.Transform]),
        label,
      ).toEqual(table.partitionSpec.map((p) => [p.column, p.transform]));
      expect(
        input.WriteOrder.Fields.map((s) => [ids.get(s.SourceId), s.Direction, s.NullOrder]),
        label,
      ).toEqual(table.sortOrder.map((s) => [s.column, s.direction, s.nullOrder]));
      expect(input.Location).toBe(`s3://lake/warehouse/${table.namespace}/${table.name}`);
      for (const f of input.Schema.Fields) expect((f.Doc ?? '').length).toBeLessThanOrEqual(255);
    }
  });

  it('encodes nested types as the Iceberg JSON type of icebergSchema (same nested ids)', () => {
    const input = glueIcebergTableInput(SILVER_EVENTS, { warehouseUri: WAREHOUSE });
    const schema = icebergSchema(SILVER_EVENTS);
    const items = schema.fields.find((f) => f.name === 'items');
    const glueItems = input.Schema.Fields.find((f) => f.Name === 'items');

    expect(typeof items?.type).toBe('object');
    expect(JSON.parse(glueItems?.Type ?? 'null')).toEqual(items?.type);
    expect(input.Schema.Fields.find((f) => f.Name === 'event_id')?.Type).toBe('string');
    expect(input.Properties['format-version']).toBeUndefined();
    expect(input.Properties.comment).toBe(SILVER_EVENTS.description);
    expect(input.PartitionSpec.Fields[0]).toMatchObject({ Transform: 'day', Name: 'event_time_day' });
  });
});
