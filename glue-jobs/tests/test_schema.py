"""Schema checks between the source and bronze (pure)."""

import pytest

from shoplake_glue.schema import SchemaDriftError, plan_schema, select_sql, spark_type_of
from shoplake_glue.sources import LAKE_COLUMNS

BRONZE = [
    ("snapshot_at", "timestamp"),
    ("customer_id", "string"),
    ("city", "string"),
    ("signup_at", "timestamp"),
    ("stock", "int"),
    ("is_deleted", "boolean"),
]
SOURCE = [
    ("customer_id", "text"),
    ("city", "character varying"),
    ("signup_at", "timestamp with time zone"),
    ("stock", "integer"),
]


def test_unchanged_source_reads_the_bronze_columns():
    plan = plan_schema("public.customers", SOURCE, BRONZE, LAKE_COLUMNS)
    assert plan.added == ()
    assert plan.columns == (("customer_id", "string"), ("city", "string"), ("signup_at", "timestamp"), ("stock", "int"))


def test_added_source_column_is_planned_for_bronze():
    plan = plan_schema("public.customers", SOURCE + [("Loyalty_Tier", "text"), ("points", "bigint")], BRONZE, LAKE_COLUMNS)
    assert plan.added == (("loyalty_tier", "string"), ("points", "bigint"))
    assert plan.columns[-2:] == plan.added


def test_dropped_and_retyped_columns_fail_naming_table_and_column():
    source = [("customer_id", "text"), ("signup_at", "text"), ("stock", "integer")]
    with pytest.raises(SchemaDriftError) as e:
        plan_schema("public.customers", source, BRONZE, LAKE_COLUMNS)
    assert e.value.problems == [
        "public.customers: column city was dropped from the source (bronze has it as string)",
        "public.customers: column signup_at changed type in the source to text (string); bronze has timestamp",
    ]
    assert "nothing was written" in str(e.value)


def test_widening_is_not_drift_but_narrowing_is():
    bronze = [("id", "string"), ("n", "bigint")]
    assert plan_schema("t", [("id", "text"), ("n", "integer")], bronze, ()).columns == (("id", "string"), ("n", "bigint"))
    with pytest.raises(SchemaDriftError, match="column n changed type in the source to bigint"):
        plan_schema("t", [("id", "text"), ("n", "bigint")], [("id", "string"), ("n", "int")], ())


def test_type_mapping_and_source_query():
    assert spark_type_of("numeric") == "double"
    assert spark_type_of("timestamp without time zone") == "timestamp_ntz"
    assert spark_type_of("tsvector") == "string"
    sql = select_sql("public", "order lines", (("id", "string"), ("n", "int")), '"updated_at" >= x')
    assert sql == (
        'SELECT CAST("id" AS text) AS "id", CAST("n" AS int4) AS "n" FROM "public"."order lines" WHERE "updated_at" >= x'
    )
