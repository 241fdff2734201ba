"""Dedup, null-key rejects, change and delete detection on small DataFrames (local Spark)."""

from datetime import datetime

from pyspark.sql import functions as F

from shoplake_glue import frames

COLS = ["id", "city", "updated_at"]
SCHEMA = "id string, city string, updated_at timestamp"


def rows(df, *cols):
    return sorted(tuple(r[c] for c in cols) for r in df.collect())


def test_null_keys_are_rejected_with_the_reason(spark):
    df = spark.createDataFrame([("a", "x", None), (None, "y", None)], SCHEMA)
    valid, rejected = frames.reject_null_keys(df, ("id",))
    assert rows(valid, "id") == [("a",)]
    assert rows(rejected, "city", "reason") == [("y", "null key column: id")]
    two = spark.createDataFrame([(None, None)], "a string, b string")
    _, rej = frames.reject_null_keys(two, ("a", "b"))
    assert rej.first()["reason"] == "null key column: a, b"


def test_dedup_keeps_the_latest_then_the_greatest_hash_whatever_the_order(spark):
    t1, t2 = datetime(2026, 1, 1), datetime(2026, 1, 2)
    data = [("a", "old", t1), ("a", "new", t2), ("b", "p", t1), ("b", "q", t1)]
    kept = []
    for order in (data, list(reversed(data))):
        ranked = frames.dedup_keys(spark.createDataFrame(order, SCHEMA).repartition(3), ("id",), COLS, "updated_at")
        assert ranked.filter(F.col("_dup_rank") > 1).count() == 2
        kept.append(rows(ranked.filter(F.col("_dup_rank") == 1), "id", "city"))
    assert kept[0] == kept[1]
    assert kept[0][0] == ("a", "new")
    # Without a change column the row hash alone decides, deterministically.
    ranked = frames.dedup_keys(spark.createDataFrame(data[2:], SCHEMA), ("id",), COLS, None)
    assert ranked.filter(F.col("_dup_rank") == 1).count() == 1


def bronze(spark, data):
    return spark.createDataFrame(
        data, "snapshot_at timestamp, id string, city string, updated_at timestamp, is_deleted boolean"
    )


def test_changed_rows_are_new_changed_or_reappeared_keys_only(spark):
    s1, s2 = datetime(2026, 1, 1), datetime(2026, 1, 2)
    t = datetime(2025, 12, 1)
    b = bronze(
        spark,
        [
            (s1, "same", "Rome", t, False),
            (s1, "moved", "Rome", t, False),
            (s1, "gone", "Oslo", t, False),
            (s2, "gone", "Oslo", t, True),  # deleted, then back in the source
            (s1, "old", "Paris", t, None),  # a row of the embedded extract (no flag)
            (s2, "old", "Lyon", t, None),
        ],
    )
    current = frames.current_state(b, ("id",), COLS)
    incoming = frames.dedup_keys(
        spark.createDataFrame(
            [("same", "Rome", t), ("moved", "Milan", t), ("gone", "Oslo", t), ("old", "Lyon", t), ("fresh", "Bern", t)],
            SCHEMA,
        ),
        ("id",),
        COLS,
        "updated_at",
    ).drop("_dup_rank")
    changed = frames.changed_rows(incoming, current, ("id",))
    assert rows(changed, "id", "city") == [("fresh", "Bern"), ("gone", "Oslo"), ("moved", "Milan")]


def test_delete_markers_are_live_keys_missing_from_the_source_with_their_last_values(spark):
    s1, s2 = datetime(2026, 1, 1), datetime(2026, 1, 2)
    t = datetime(2025, 12, 1)
    b = bronze(
        spark,
        [
            (s1, "kept", "Rome", t, False),
            (s1, "removed", "Oslo", t, False),
            (s2, "removed", "Bergen", t, False),
            (s1, "already", "Pisa", t, False),
            (s2, "already", "Pisa", t, True),
        ],
    )
    current = frames.current_state(b, ("id",), COLS)
    source_keys = spark.createDataFrame([("kept",), ("kept",)], "id string")
    markers = frames.delete_markers(current, source_keys, ("id",), COLS)
    assert rows(markers, "id", "city", "is_deleted") == [("removed", "Bergen", True)]
