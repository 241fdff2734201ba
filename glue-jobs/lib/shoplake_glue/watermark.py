"""Incremental extraction state (pure functions).

The watermark of a table is the greatest value of its change column (e.g. updated_at) that a
committed extract has written; it is kept in the lake's ops table (ops.extract_watermarks,
one row per table and run that changed something). The next incremental run reads rows with
`column >= watermark`: inclusive, so rows committed later with the same timestamp are not
lost; re-read rows equal to what bronze holds are dropped by change detection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from .schema import quote_ident, quote_literal


@dataclass(frozen=True)
class ExtractPlan:
    mode: str  # full | incremental
    reason: str
    where: str | None


def plan_extract(requested_mode: str, watermark_column: str | None, watermark: datetime | None) -> ExtractPlan:
    """Chooses full or incremental extraction for one table."""
    if requested_mode not in ("full", "incremental"):
        raise ValueError(f"mode must be full or incremental, got {requested_mode!r}")
    if watermark_column is None:
        return ExtractPlan("full", "table has no change column", None)
    if requested_mode == "full":
        return ExtractPlan("full", "full mode requested", None)
    if watermark is None:
        return ExtractPlan("full", "first load (no watermark yet)", None)
    if watermark.tzinfo is None:  # Spark hands back UTC (session time zone) without a zone
        watermark = watermark.replace(tzinfo=timezone.utc)
    return ExtractPlan(
        "incremental",
        f"{watermark_column} >= {watermark.isoformat()}",
        f"{quote_ident(watermark_column)} >= CAST({quote_literal(watermark.isoformat())} AS timestamptz)",
    )


def next_watermark(previous: datetime | None, extracted_max: datetime | None) -> datetime | None:
    """The watermark after an extract: never moves backwards."""
    if extracted_max is None:
        return previous
    if previous is None:
        return extracted_max
    return max(previous, extracted_max)
