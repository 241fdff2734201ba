"""The extracted tables against the lake catalog (lambdas/shared/catalog/tables.ts, the single
source of truth of every bronze table): every bronze OLTP/marketing table has exactly one
source table, every source table lands in a catalog table, and its key and change columns are
columns of that table. Reads the TypeScript catalog's table definitions as text."""

import re
from pathlib import Path

import pytest

from shoplake_glue.sources import LAKE_COLUMNS, SOURCES

CATALOG = Path(__file__).resolve().parents[2] / "lambdas" / "shared" / "catalog" / "tables.ts"
TABLE_RE = re.compile(r"table\(\s*'bronze',\s*'(?P<name>\w+)',.*?columns\(\[(?P<cols>.*?)\]\),", re.S)
COLUMN_RE = re.compile(r"\[\d+,\s*'(\w+)'")


def bronze_catalog() -> dict[str, set[str]]:
    text = CATALOG.read_text()
    out = {m["name"]: set(COLUMN_RE.findall(m["cols"])) for m in TABLE_RE.finditer(text)}
    # SNAPSHOT_AT / IS_DELETED are shared tuples (not literal columns): every table has them.
    return {name: cols | set(LAKE_COLUMNS) for name, cols in out.items()}


def all_sources():
    return [t for tables in SOURCES.values() for t in tables]


def test_every_bronze_source_table_of_the_catalog_is_extracted_once():
    catalog = {n for n in bronze_catalog() if n.startswith(("oltp_", "marketing_"))}
    extracted = [t.bronze for t in all_sources()]
    assert sorted(extracted) == sorted(set(extracted)), "a bronze table is written by two source tables"
    assert set(extracted) == catalog
    # The shop's OLTP tables named by the design (SPEC: customers, products, orders and order
    # lines, reviews, payments) and the marketing funnel's leads and deals.
    assert [t.name for t in SOURCES["oltp"]] == [
        "customers",
        "products",
        "orders",
        "order_lines",
        "reviews",
        "payments",
    ]
    assert [t.name for t in SOURCES["marketing"]] == ["leads", "deals"]


@pytest.mark.parametrize("t", all_sources(), ids=lambda t: f"{t.source}.{t.name}")
def test_key_and_change_columns_are_bronze_columns(t):
    cols = bronze_catalog()[t.bronze]
    assert set(t.key) <= cols
    if t.watermark is not None:
        assert t.watermark in cols
    assert set(LAKE_COLUMNS) <= cols


def test_reviews_and_payments_are_incremental_by_updated_at_like_orders():
    by_name = {t.name: t for t in SOURCES["oltp"]}
    for name, key in (("reviews", ("review_id",)), ("payments", ("payment_id",))):
        t = by_name[name]
        assert (t.key, t.watermark, t.detect_deletes) == (key, "updated_at", True)
        assert (t.watermark, t.detect_deletes) == (by_name["orders"].watermark, by_name["orders"].detect_deletes)
