import { describe, expect, it } from 'vitest';
import {
  athenaDdl,
  BRONZE_EVENTS,
  databaseName,
  EVENT_FIELD_IDS,
  getTable,
  glueDatabaseInputs,
  glueTableInputs,
  glueType,
  icebergPartitionSpec,
  icebergSchema,
  icebergSortOrder,
  localTableSpec,
  NAMESPACES,
  SILVER_DIM_CUSTOMER,
  SILVER_EVENTS,
  TABLES,
  UnknownTableError,
} from '../../lambdas/shared/catalog/index.ts';
import { eventColumns } from '../../lambdas/shared/event-schema.ts';
import { newTableMetadata } from '../../local/iceberg/index.ts';

const REQUIRED_TABLES = [
  'bronze.events',
  'bronze.oltp_customers',
  'bronze.oltp_products',
  'bronze.oltp_orders',
  'bronze.oltp_order_lines',
  'bronze.oltp_reviews',
  'bronze.oltp_payments',
  'silver.events',
  'silver.sessions',
  'silver.orders',
  'silver.order_lines',
  'silver.dim_customer',
  'silver.dim_product',
  'silver.payments',
  'silver.reviews',
  'gold.daily_sales',
  'gold.monthly_kpis',
  'gold.conversion_funnel',
  'gold.category_revenue',
  'gold.top_products',
  'gold.customer_ltv',
  'gold.repeat_purchase',
  'gold.cancellations',
  'gold.review_ratings',
  'gold.product_ratings',
  'gold.payment_reconciliation',
  'gold.campaign_attribution',
  'gold.rec_click_through',
  'ops.data_quality_results',
];

function allIds(fields: ReturnType<typeof icebergSchema>['fields']): number[] {
  const ids: number[] = [];
  const visit = (t: unknown): void => {
    if (typeof t !== 'object' || t === null) return;
    const o = t as Record<string, unknown>;
    if (o.type === 'struct' && Array.isArray(o.fields)) {
      for (const f of o.fields as { id: number; type: unknown }[]) {
        ids.push(f.id);
        visit(f.type);
      }
    } else if (o.type === 'list') {
      ids.push(o['element-id'] as number);
      visit(o.element);
    } else if (o.type === 'map') {
      ids.push(o['key-id'] as number, o['value-id'] as number);
      visit(o.value);
    }
  };
  visit({ type: 'struct', fields });
  return ids;
}

describe('table catalog', () => {
  it('defines every table the lakehouse needs, in known namespaces, once', () => {
    const names = TABLES.map((t) => `${t.namespace}.${t.name}`);
    for (const required of REQUIRED_TABLES) expect(names).toContain(required);
    expect(new Set(names).size).toBe(names.length);
    for (const t of TABLES) expect(NAMESPACES).toContain(t.namespace);
  });

  it('derives event columns from the event contract, with a pinned id for each field', () => {
    const contract = eventColumns().map((c) => c.name);
    for (const name of contract) expect(EVENT_FIELD_IDS[name]).toBeTypeOf('number');
    for (const t of [BRONZE_EVENTS, SILVER_EVENTS]) {
      expect(t.columns.slice(0, contract.length).map((c) => c.name)).toEqual(contract);
      expect(t.columns.find((c) => c.name === 'event_id')?.id).toBe(2);
      expect(t.columns.find((c) => c.name === 'items')?.type).toEqual(
        eventColumns().find((c) => c.name === 'items')?.type,
      );
    }
  });

  it('gives unique field ids (nested included) and valid partition/sort sources', () => {
    for (const t of TABLES) {
      const schema = icebergSchema(t);
      const ids = allIds(schema.fields);
      expect(new Set(ids).size, `${t.namespace}.${t.name}`).toBe(ids.length);
      const spec = icebergPartitionSpec(t);
      for (const f of spec.fields) expect(ids).toContain(f['source-id']);
      for (const f of icebergSortOrder(t).fields) expect(ids).toContain(f['source-id']);
    }
    expect(icebergPartitionSpec(BRONZE_EVENTS).fields).toEqual([
      { 'source-id': 4, 'field-id': 1000, name: 'event_time_day', transform: 'day' },
    ]);
  });

  it('gives the local Iceberg tables exactly the schema and partition spec Glue gets', () => {
    for (const t of TABLES) {
      const local = newTableMetadata(localTableSpec(t), 'file:///tmp/x');
      expect(local.schemas[0]?.fields, `${t.namespace}.${t.name}`).toEqual(icebergSchema(t).fields);
      expect(local['partition-specs'][0]?.fields).toEqual(icebergPartitionSpec(t).fields);
    }
  });

  it('models SCD2 on dim_customer', () => {
    const names = SILVER_DIM_CUSTOMER.columns.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['valid_from', 'valid_to', 'is_current']));
  });

  it('generates Glue Iceberg table inputs', () => {
    const inputs = glueTableInputs({ warehouseUri: 's3://lake/warehouse/' });
    expect(inputs).toHaveLength(TABLES.length);
    const events = inputs.find((i) => i.DatabaseName === 'shoplake_bronze' && i.TableInput.Name === 'events');
    expect(events?.TableInput.TableType).toBe('EXTERNAL_TABLE');
    expect(events?.TableInput.StorageDescriptor.Location).toBe('s3://lake/warehouse/bronze/events');
    expect(events?.TableInput.StorageDescriptor.Columns.find((c) => c.Name === 'items')?.Type).toBe(
      'array<struct<product_id:string,quantity:int,price:double,category:string>>',
    );
    expect(events?.OpenTableFormatInput).toEqual({
      IcebergInput: { MetadataOperation: 'CREATE', Version: '2' },
    });
    expect(glueDatabaseInputs('dev_').map((d) => d.Name)).toEqual(NAMESPACES.map((n) => `dev_${n}`));
    expect(glueType('long')).toBe('bigint');
    expect(glueType({ type: 'map', key: 'string', value: 'string' })).toBe('map<string,string>');
  });

  it('generates Athena Iceberg DDL with the partition spec', () => {
    const ddl = athenaDdl(SILVER_EVENTS, { warehouseUri: 's3://lake/warehouse', databasePrefix: 'x_' });
    expect(ddl).toMatch(/^CREATE TABLE IF NOT EXISTS x_silver\.events \(/);
    expect(ddl).toContain('PARTITIONED BY (day(`event_time`))');
    expect(ddl).toContain("'table_type'='ICEBERG'");
    expect(ddl).toContain("LOCATION 's3://lake/warehouse/silver/events/'");
    expect(databaseName('gold')).toBe('shoplake_gold');
  });

  it('rejects names outside the catalog', () => {
    expect(getTable('GOLD.monthly_kpis').name).toBe('monthly_kpis');
    expect(() => getTable('gold.nope')).toThrow(UnknownTableError);
    expect(() => getTable('main.pg_catalog')).toThrow(/not in the lake catalog/);
  });
});
