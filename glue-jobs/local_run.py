"""Local entry point of shoplake's Glue jobs: the same shoplake_glue package on plain pyspark,
writing shoplake's local warehouse (<lake>/warehouse, namespaces as `<ns>.db`) through an
Iceberg Hadoop catalog, reading a real PostgreSQL over JDBC.

Where Glue gets arguments from getResolvedOptions and the secret from Secrets Manager, this
takes the same argument names and the database from SHOPLAKE_PG_URL (postgres://user:pass@
host:port/db) or --secret_file (a JSON file in the RDS secret format). Credentials are never
printed.

  python local_run.py --source oltp --warehouse DIR [--mode incremental|full] [--run_id ID]
  python local_run.py --serve --warehouse DIR   # JSON requests on stdin, one result per line
                                                # on stdout: one Spark session for many runs

Needs pyspark 3.5, the iceberg-spark-runtime-3.5_2.12 and PostgreSQL JDBC jars
(SHOPLAKE_SPARK_JARS, comma-separated): scripts/setup-spark-pg.sh installs them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

from shoplake_glue import ExtractConfig, SchemaDriftError, run_source  # noqa: E402

CATALOG = "local"


def secret_from_url(url: str) -> dict:
    """postgres://user:pass@host:port/db[?sslmode=...] -> the RDS secret format."""
    u = urlparse(url)
    if u.scheme not in ("postgres", "postgresql") or not u.hostname or not u.path.strip("/"):
        raise ValueError("expected postgres://user:password@host:port/dbname")
    query = dict(p.split("=", 1) for p in u.query.split("&") if "=" in p)
    return {
        "username": unquote(u.username or ""),
        "password": unquote(u.password or ""),
        "host": u.hostname,
        "port": u.port or 5432,
        "dbname": unquote(u.path.strip("/")),
        "sslmode": query.get("sslmode", "prefer"),
    }


def load_secret(secret_file: str | None) -> dict:
    if secret_file:
        return json.loads(Path(secret_file).read_text())
    url = os.environ.get("SHOPLAKE_PG_URL")
    if not url:
        raise ValueError("no database: set SHOPLAKE_PG_URL=postgres://... or pass --secret_file")
    return secret_from_url(url)


def spark_session(warehouse: str):
    jars = os.environ.get("SHOPLAKE_SPARK_JARS", "")
    if not jars:
        raise RuntimeError("SHOPLAKE_SPARK_JARS is not set: run scripts/setup-spark-pg.sh")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(os.environ.get("SHOPLAKE_SPARK_MASTER", "local[2]"))
        .appName("shoplake-glue-local")
        .config("spark.jars", jars)
        .config("spark.driver.memory", os.environ.get("SHOPLAKE_SPARK_DRIVER_MEMORY", "1g"))
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
        .config(f"spark.sql.catalog.{CATALOG}", "org.apache.iceberg.spark.SparkCatalog")
        .config(f"spark.sql.catalog.{CATALOG}.type", "hadoop")
        .config(f"spark.sql.catalog.{CATALOG}.warehouse", Path(warehouse).resolve().as_uri())
        .config(f"spark.sql.catalog.{CATALOG}.cache-enabled", "false")
        .getOrCreate()
    )


def config_of(req: dict) -> ExtractConfig:
    snap = req.get("snapshot_at")
    tables = req.get("tables")
    return ExtractConfig(
        source=req["source"],
        catalog=CATALOG,
        bronze_database=req.get("bronze_database", "bronze.db"),
        ops_database=req.get("ops_database", "ops.db"),
        mode=req.get("mode", "incremental"),
        run_id=req.get("run_id") or "manual",
        source_schema=req.get("source_schema"),
        snapshot_at=datetime.fromisoformat(snap.replace("Z", "+00:00")) if snap else None,
        tables=tuple(tables) if tables else None,
    )


def serve(spark, secret_file: str | None) -> int:
    """One request per stdin line: {"source", "mode", "run_id", "snapshot_at", "pg_url"?};
    one line per result on stdout: {"ok": true, "summary": {...}} or {"ok": false, "error", "message"}."""
    out = sys.stdout
    sys.stdout = sys.stderr  # keep the protocol channel clean
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            secret = secret_from_url(req["pg_url"]) if req.get("pg_url") else load_secret(secret_file)
            reply = {"ok": True, "summary": run_source(spark, config_of(req), secret)}
        except SchemaDriftError as e:
            reply = {"ok": False, "error": "SchemaDriftError", "message": str(e), "problems": e.problems}
        except Exception as e:  # noqa: BLE001 - reported to the caller, the session lives on
            traceback.print_exc(file=sys.stderr)
            reply = {"ok": False, "error": type(e).__name__, "message": str(e)[:4000]}
        out.write(json.dumps(reply, default=str) + "\n")
        out.flush()
    return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--warehouse", required=True, help="shoplake's local warehouse (<lake>/warehouse)")
    p.add_argument("--source", choices=["oltp", "marketing"])
    p.add_argument("--mode", default="incremental", choices=["incremental", "full"])
    p.add_argument("--run_id")
    p.add_argument("--source_schema")
    p.add_argument("--snapshot_at", help="ISO time stamped on the run's bronze rows (default now)")
    p.add_argument("--secret_file", help="JSON in the RDS secret format (default: SHOPLAKE_PG_URL)")
    p.add_argument("--serve", action="store_true")
    a = p.parse_args(argv)
    spark = spark_session(a.warehouse)
    spark.sparkContext.setLogLevel("WARN")
    if a.serve:
        return serve(spark, a.secret_file)
    if not a.source:
        p.error("--source is required without --serve")
    req = {k: v for k, v in vars(a).items() if v is not None}
    try:
        summary = run_source(spark, config_of(req), load_secret(a.secret_file))
    except SchemaDriftError as e:
        print(f"extract failed: {e}", file=sys.stderr)
        return 1
    print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
