"""One extract run of a source (oltp | marketing): every table of the source from PostgreSQL
over JDBC into its bronze Iceberg table, through the Spark catalog the entry point configured
(Glue catalog on AWS, a Hadoop catalog over the local warehouse locally).

Per run:
 1. schema check of every table (schema.plan_schema): a dropped or retyped column fails the
    run before anything is written, naming table and column;
 2. per table: added source columns are added to bronze; rows are read in full or
    incrementally (watermark.plan_extract), rows with a null key go to ops.extract_rejects
    with the reason, duplicate keys are reduced to one row deterministically (counted),
    rows equal to bronze's current version are dropped, keys bronze holds that the source no
    longer has become delete markers (is_deleted = true); the rest is appended with the run's
    snapshot_at; then the table's watermark and counts go to ops.extract_watermarks.
A run with no source change commits nothing.

Credentials come from the `secret` mapping the entry point obtained (Secrets Manager on AWS);
they are passed to the JDBC reader only, never logged or returned.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import frames
from .schema import SchemaDriftError, SchemaPlan, plan_schema, quote_ident, quote_literal, select_sql
from .sources import DEFAULT_SCHEMA, DELETED_COLUMN, LAKE_COLUMNS, SNAPSHOT_COLUMN, SOURCES, SourceTable
from .watermark import next_watermark, plan_extract

__all__ = ["ExtractConfig", "SchemaDriftError", "jdbc_options", "run_source"]

log = logging.getLogger("shoplake_glue")

WATERMARKS_TABLE = "extract_watermarks"
REJECTS_TABLE = "extract_rejects"


@dataclass(frozen=True)
class ExtractConfig:
    source: str
    catalog: str
    bronze_database: str
    ops_database: str
    mode: str = "incremental"
    run_id: str = "manual"
    source_schema: str | None = None
    snapshot_at: datetime | None = None
    tables: tuple[str, ...] | None = None  # restrict to these source tables (tests, reruns)
    fetch_size: int = 10000


@dataclass
class TableResult:
    table: str
    bronze: str
    mode: str
    reason: str
    rows_read: int = 0
    rows_written: int = 0
    rows_deleted: int = 0
    duplicates: int = 0
    rejected: int = 0
    added_columns: list[str] = field(default_factory=list)
    watermark: str | None = None


def jdbc_options(secret: dict[str, Any]) -> dict[str, str]:
    """JDBC reader options from a secret in the RDS format {username, password, host, port,
    dbname[, jdbc_url][, sslmode]}."""
    url = secret.get("jdbc_url")
    if not url:
        for k in ("host", "dbname", "username"):
            if not secret.get(k):
                raise ValueError(f"database secret has no {k!r} (expected the RDS secret format)")
        url = f"jdbc:postgresql://{secret['host']}:{int(secret.get('port') or 5432)}/{secret['dbname']}"
        sslmode = secret.get("sslmode", "require")
        url += f"?sslmode={sslmode}"
    return {
        "url": str(url),
        "user": str(secret.get("username", "")),
        "password": str(secret.get("password", "")),
        "driver": "org.postgresql.Driver",
    }


def _ident(catalog: str, database: str, table: str) -> str:
    q = lambda s: "`" + s.replace("`", "``") + "`"  # noqa: E731
    return f"{q(catalog)}.{q(database)}.{q(table)}"


class _Run:
    def __init__(self, spark: SparkSession, cfg: ExtractConfig, secret: dict[str, Any]):
        self.spark = spark
        self.cfg = cfg
        self._jdbc = jdbc_options(secret)
        self.schema = cfg.source_schema or DEFAULT_SCHEMA[cfg.source]
        self.snapshot_at = (cfg.snapshot_at or datetime.now(timezone.utc)).astimezone(timezone.utc)

    def read_sql(self, sql: str) -> DataFrame:
        reader = self.spark.read.format("jdbc").option("query", sql).option("fetchsize", str(self.cfg.fetch_size))
        for k, v in self._jdbc.items():
            reader = reader.option(k, v)
        return reader.load()

    def bronze_ident(self, t: SourceTable) -> str:
        return _ident(self.cfg.catalog, self.cfg.bronze_database, t.bronze)

    def ops_ident(self, name: str) -> str:
        return _ident(self.cfg.catalog, self.cfg.ops_database, name)

    def source_columns(self, tables: list[SourceTable]) -> dict[str, list[tuple[str, str]]]:
        """Columns of the source tables, in column order (one query for all)."""
        names = ", ".join(quote_literal(t.name) for t in tables)
        rows = self.read_sql(
            "SELECT table_name, column_name, data_type, ordinal_position FROM information_schema.columns "
            f"WHERE table_schema = {quote_literal(self.schema)} AND table_name IN ({names})"
        ).collect()
        out: dict[str, list[tuple[str, str]]] = {t.name: [] for t in tables}
        for r in sorted(rows, key=lambda r: (r["table_name"], r["ordinal_position"])):
            out[r["table_name"]].append((r["column_name"], r["data_type"]))
        return out

    def bronze_columns(self, t: SourceTable) -> list[tuple[str, str]]:
        return [(f.name, f.dataType.simpleString()) for f in self.spark.table(self.bronze_ident(t)).schema.fields]

    def load_watermarks(self) -> dict[str, datetime]:
        """The watermark of every table of the source (one scan of the ops table)."""
        rows = (
            self.spark.table(self.ops_ident(WATERMARKS_TABLE))
            .filter(F.col("source") == self.cfg.source)
            .groupBy("table_name")
            .agg(F.max("watermark").alias("w"))
            .collect()
        )
        return {r["table_name"]: r["w"] for r in rows if r["w"] is not None}

    def extract(self, t: SourceTable, plan: SchemaPlan, previous: datetime | None) -> TableResult:
        cfg = self.cfg
        ident = self.bronze_ident(t)
        for name, typ in plan.added:
            log.warning("%s: source column %s (%s) added to %s", t.name, name, typ, ident)
            self.spark.sql(f"ALTER TABLE {ident} ADD COLUMNS ({quote_ident(name).replace(chr(34), '`')} {typ})")
        columns = [c for c, _ in plan.columns]
        ep = plan_extract(cfg.mode, t.watermark, previous if t.watermark else None)
        res = TableResult(t.name, t.bronze, ep.mode, ep.reason, added_columns=[c for c, _ in plan.added])

        raw = self.read_sql(select_sql(self.schema, t.name, plan.columns, ep.where))
        raw = raw.select(*[F.col(c).cast(typ).alias(c) for c, typ in plan.columns])
        raw = raw.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            valid, rejected = frames.reject_null_keys(raw, t.key)
            ranked = frames.dedup_keys(valid, t.key, columns, t.watermark).persist(StorageLevel.MEMORY_AND_DISK)
            # One pass for the counts and the highest change-column value of the kept rows.
            kept = F.col("_dup_rank") == 1
            stats = ranked.agg(
                F.count(F.lit(1)).alias("n"),
                F.sum(F.when(~kept, 1).otherwise(0)).alias("dups"),
                (F.max(F.when(kept, F.col(t.watermark))) if t.watermark else F.lit(None)).alias("wm"),
            ).collect()[0]
            res.rejected = rejected.count()
            res.duplicates = int(stats["dups"] or 0)
            res.rows_read = int(stats["n"] or 0) + res.rejected
            extracted_max = stats["wm"]
            incoming = ranked.filter(kept).drop("_dup_rank")

            bronze = self.spark.table(ident)
            current = frames.current_state(bronze, t.key, columns).persist(StorageLevel.MEMORY_AND_DISK)
            changed = frames.changed_rows(incoming, current, t.key).drop(frames.ROW_HASH)
            if t.detect_deletes:
                if ep.mode == "full":
                    source_keys = valid.select(*t.key)
                else:
                    keys_sql = f"SELECT {', '.join(quote_ident(k) for k in t.key)} FROM {quote_ident(self.schema)}.{quote_ident(t.name)}"
                    source_keys = self.read_sql(keys_sql)
                    source_keys = source_keys.select(
                        *[F.col(k).cast(dict(plan.columns)[k]).alias(k) for k in t.key]
                    )
                markers = frames.delete_markers(current, source_keys, t.key, columns)
            else:
                markers = None
            out = changed.select(*columns, F.lit(False).alias(DELETED_COLUMN))
            if markers is not None:
                out = out.unionByName(markers)
            out = out.withColumn(SNAPSHOT_COLUMN, F.lit(self.snapshot_at)).persist(StorageLevel.MEMORY_AND_DISK)
            counts = out.groupBy(DELETED_COLUMN).count().collect()
            res.rows_written = sum(r["count"] for r in counts if not r[DELETED_COLUMN])
            res.rows_deleted = sum(r["count"] for r in counts if r[DELETED_COLUMN])
            if res.rows_written + res.rows_deleted > 0:
                out.writeTo(ident).append()

            if res.rejected > 0:
                record_cols = [c for c in columns]
                rej = rejected.select(
                    F.lit(t.source).alias("source"),
                    F.lit(t.name).alias("table_name"),
                    F.lit(cfg.run_id).alias("run_id"),
                    F.lit(self.snapshot_at).alias("extracted_at"),
                    F.col("reason"),
                    F.to_json(F.struct(*[F.col(c) for c in record_cols])).alias("record"),
                )
                rej.writeTo(self.ops_ident(REJECTS_TABLE)).append()

            wm = next_watermark(previous, extracted_max) if t.watermark else None
            res.watermark = wm.replace(tzinfo=timezone.utc).isoformat() if wm else None
            if res.rows_written or res.rows_deleted or res.duplicates or res.rejected or wm != previous:
                self.spark.createDataFrame(
                    [
                        (
                            t.source,
                            t.name,
                            cfg.run_id,
                            self.snapshot_at,
                            ep.mode,
                            t.watermark,
                            wm.replace(tzinfo=timezone.utc) if wm else None,
                            res.rows_read,
                            res.rows_written,
                            res.rows_deleted,
                            res.duplicates,
                            res.rejected,
                        )
                    ],
                    "source string, table_name string, run_id string, extracted_at timestamp, mode string, "
                    "watermark_column string, watermark timestamp, rows_read bigint, rows_written bigint, "
                    "rows_deleted bigint, duplicates bigint, rejected bigint",
                ).writeTo(self.ops_ident(WATERMARKS_TABLE)).append()
            out.unpersist()
            current.unpersist()
            ranked.unpersist()
        finally:
            raw.unpersist()
        return res


def run_source(spark: SparkSession, cfg: ExtractConfig, secret: dict[str, Any]) -> dict[str, Any]:
    """Runs the extract of one source; returns the run summary (no credentials in it)."""
    if cfg.source not in SOURCES:
        raise ValueError(f"unknown source {cfg.source!r}: expected one of {sorted(SOURCES)}")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    # Key columns are required in bronze; rows with a null key never reach the writer
    # (rejected first), but Spark's plan still calls them nullable.
    spark.conf.set("spark.sql.iceberg.check-nullability", "false")
    run = _Run(spark, cfg, secret)
    tables = [t for t in SOURCES[cfg.source] if cfg.tables is None or t.name in cfg.tables]
    # 1. every table's schema first: a dropped/retyped column fails the run with nothing written
    started = time.monotonic()
    plans: list[tuple[SourceTable, SchemaPlan]] = []
    problems: list[str] = []
    source_columns = run.source_columns(tables)
    for t in tables:
        if not source_columns[t.name]:
            problems.append(f"{run.schema}.{t.name}: table not found in the source database")
            continue
        try:
            plans.append(
                (t, plan_schema(f"{run.schema}.{t.name}", source_columns[t.name], run.bronze_columns(t), LAKE_COLUMNS))
            )
        except SchemaDriftError as e:
            problems.extend(e.problems)
    if problems:
        raise SchemaDriftError(problems)
    # 2. extract and write table by table
    watermarks = run.load_watermarks()
    results = [run.extract(t, p, watermarks.get(t.name)) for t, p in plans]
    summary = {
        "source": cfg.source,
        "run_id": cfg.run_id,
        "snapshot_at": run.snapshot_at.isoformat().replace("+00:00", "Z"),
        "tables": [r.__dict__ for r in results],
        "elapsed_ms": round((time.monotonic() - started) * 1000),
    }
    log.info("extract summary %s", json.dumps(summary))
    return summary
