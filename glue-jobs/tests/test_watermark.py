"""Watermarks and the choice of full or incremental extraction (pure)."""

from datetime import datetime, timezone

import pytest

from shoplake_glue.watermark import next_watermark, plan_extract

T1 = datetime(2026, 11, 1, 10, 0, 0, 123456)
T2 = datetime(2026, 11, 2, tzinfo=timezone.utc)


def test_first_load_is_full():
    p = plan_extract("incremental", "updated_at", None)
    assert (p.mode, p.where) == ("full", None)
    assert "first load" in p.reason


def test_table_without_change_column_is_always_full():
    assert plan_extract("incremental", None, T1).mode == "full"


def test_full_mode_on_request():
    assert plan_extract("full", "updated_at", T1).mode == "full"


def test_incremental_reads_from_the_watermark_inclusive_in_utc():
    p = plan_extract("incremental", "updated_at", T1)
    assert p.mode == "incremental"
    assert p.where == "\"updated_at\" >= CAST('2026-11-01T10:00:00.123456+00:00' AS timestamptz)"


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError):
        plan_extract("delta", "updated_at", T1)


def test_watermark_never_moves_backwards():
    assert next_watermark(None, None) is None
    assert next_watermark(None, T2) == T2
    assert next_watermark(T2, None) == T2
    assert next_watermark(T2, datetime(2026, 10, 1, tzinfo=timezone.utc)) == T2
    later = datetime(2026, 12, 1, tzinfo=timezone.utc)
    assert next_watermark(T2, later) == later
