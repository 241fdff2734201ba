"""The source tables each job extracts and the bronze tables they land in.

A table's bronze columns are fixed by the lake catalog (lambdas/shared/catalog/tables.ts);
columns the source adds later are carried into bronze by schema evolution (see schema.py).
`watermark` names the column of incremental extraction (None: every run is a full snapshot,
for tables without a usable change column); `key` is the primary key used for dedup, change
and delete detection.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceTable:
    source: str  # oltp | marketing
    name: str  # table name in the source database
    bronze: str  # bronze table name
    key: tuple[str, ...]
    watermark: str | None
    detect_deletes: bool = True


SOURCES: dict[str, tuple[SourceTable, ...]] = {
    "oltp": (
        SourceTable("oltp", "customers", "oltp_customers", ("customer_id",), "updated_at"),
        SourceTable("oltp", "products", "oltp_products", ("product_id",), "updated_at"),
        SourceTable("oltp", "orders", "oltp_orders", ("order_id",), "updated_at"),
        # No change column: a full snapshot every run, only differences are written.
        SourceTable("oltp", "order_lines", "oltp_order_lines", ("order_id", "line_no"), None),
        SourceTable("oltp", "reviews", "oltp_reviews", ("review_id",), "updated_at"),
        SourceTable("oltp", "payments", "oltp_payments", ("payment_id",), "updated_at"),
    ),
    "marketing": (
        SourceTable("marketing", "leads", "marketing_leads", ("mql_id",), None),
        SourceTable("marketing", "deals", "marketing_deals", ("mql_id",), None),
    ),
}

# Columns the lake adds to every bronze row of an extracted table (not source columns).
SNAPSHOT_COLUMN = "snapshot_at"
DELETED_COLUMN = "is_deleted"
LAKE_COLUMNS = (SNAPSHOT_COLUMN, DELETED_COLUMN)

DEFAULT_SCHEMA = {"oltp": "public", "marketing": "marketing"}
