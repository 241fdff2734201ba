"""DataFrame steps of an extract: null-key rejects, deterministic dedup, change detection
against bronze and hard-delete detection by key comparison.

Each takes and returns Spark DataFrames; nothing here reads the source or writes the lake.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from .sources import DELETED_COLUMN, SNAPSHOT_COLUMN

ROW_HASH = "_row_hash"


def row_hash(columns: list[str]) -> Column:
    """SHA-256 of the row's canonical JSON (nulls omitted): equal content, equal hash."""
    return F.sha2(F.to_json(F.struct(*[F.col(c) for c in sorted(columns)])), 256)


def reject_null_keys(df: DataFrame, key: tuple[str, ...]) -> tuple[DataFrame, DataFrame]:
    """Splits rows with a null key column off, with the reason (`rejected` has `reason`)."""
    null_cols = [F.when(F.col(k).isNull(), F.lit(k)) for k in key]
    reason = F.concat(F.lit("null key column: "), F.concat_ws(", ", *null_cols))
    any_null = F.lit(False)
    for k in key:
        any_null = any_null | F.col(k).isNull()
    return df.filter(~any_null), df.filter(any_null).withColumn("reason", reason)


def dedup_keys(df: DataFrame, key: tuple[str, ...], columns: list[str], order_by: str | None) -> DataFrame:
    """One row per key: the latest by `order_by` (the change column), ties broken by the
    greatest row hash, so the same input always keeps the same row. Adds `_dup_rank`
    (1 = kept); callers count and drop rows with rank > 1."""
    df = df.withColumn(ROW_HASH, row_hash(columns))
    order = ([F.col(order_by).desc_nulls_last()] if order_by else []) + [F.col(ROW_HASH).desc()]
    return df.withColumn("_dup_rank", F.row_number().over(Window.partitionBy(*key).orderBy(*order)))


def current_state(bronze: DataFrame, key: tuple[str, ...], columns: list[str]) -> DataFrame:
    """Bronze's current version of every key (its latest row): the columns, `_cur_deleted`
    and `_cur_hash`."""
    w = Window.partitionBy(*key).orderBy(F.col(SNAPSHOT_COLUMN).desc())
    latest = bronze.withColumn("_rn", F.row_number().over(w)).filter(F.col("_rn") == 1)
    return latest.select(
        *columns,
        F.coalesce(F.col(DELETED_COLUMN), F.lit(False)).alias("_cur_deleted"),
        row_hash(columns).alias("_cur_hash"),
    )


def changed_rows(incoming: DataFrame, current: DataFrame, key: tuple[str, ...]) -> DataFrame:
    """Incoming rows (with ROW_HASH) that are new, re-appeared after a delete, or differ."""
    current = current.select(*key, "_cur_hash", "_cur_deleted")
    joined = incoming.join(current, on=list(key), how="left")
    changed = (
        F.col("_cur_hash").isNull() | F.col("_cur_deleted") | (F.col("_cur_hash") != F.col(ROW_HASH))
    )
    return joined.filter(changed).drop("_cur_hash", "_cur_deleted")


def delete_markers(
    current: DataFrame, source_keys: DataFrame, key: tuple[str, ...], columns: list[str]
) -> DataFrame:
    """Hard deletes: bronze's current rows of live keys the source no longer has, as delete
    markers (their last values, `is_deleted` true)."""
    live = current.filter(~F.col("_cur_deleted"))
    gone = live.join(source_keys.select(*key).distinct(), on=list(key), how="left_anti")
    return gone.select(*columns, F.lit(True).alias(DELETED_COLUMN))
