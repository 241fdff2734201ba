"""AWS Glue 5.0 entry point (Spark 3.5, Python 3.11) of shoplake's extract jobs.

Arguments (GLUE-CONTRACT.md): --source oltp|marketing, --secret_id, --catalog_name,
--bronze_database, --ops_database, --warehouse, --extract_mode incremental|full (Glue reserves
--mode; the infra passes --extract_mode), optional --run_id, --source_schema (default public
for oltp, marketing for marketing). The database secret (RDS format JSON) is read from AWS Secrets Manager with
the job role; its value is never logged. All extraction and write logic is the shoplake_glue
package (shipped in --extra-py-files), the same code glue-jobs/local_run.py runs locally.
"""

import json
import sys

import boto3
from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

from shoplake_glue import ExtractConfig, run_source

REQUIRED = ["source", "secret_id", "catalog_name", "bronze_database", "ops_database", "warehouse"]
OPTIONAL = ["extract_mode", "run_id", "source_schema"]


def main() -> None:
    present = [o for o in OPTIONAL if f"--{o}" in sys.argv]
    args = getResolvedOptions(sys.argv, REQUIRED + present)
    sc = SparkContext.getOrCreate()
    glue = GlueContext(sc)
    spark = glue.spark_session
    catalog = args["catalog_name"]
    # The Glue Data Catalog as an Iceberg Spark catalog (when the job's --conf did not set it).
    prefix = f"spark.sql.catalog.{catalog}"
    if not spark.conf.get(prefix, None):
        spark.conf.set(prefix, "org.apache.iceberg.spark.SparkCatalog")
        spark.conf.set(f"{prefix}.catalog-impl", "org.apache.iceberg.aws.glue.GlueCatalog")
        spark.conf.set(f"{prefix}.io-impl", "org.apache.iceberg.aws.s3.S3FileIO")
        spark.conf.set(f"{prefix}.warehouse", args["warehouse"])
    secret = json.loads(
        boto3.client("secretsmanager").get_secret_value(SecretId=args["secret_id"])["SecretString"]
    )
    summary = run_source(
        spark,
        ExtractConfig(
            source=args["source"],
            catalog=catalog,
            bronze_database=args["bronze_database"],
            ops_database=args["ops_database"],
            mode=args.get("extract_mode") or "incremental",
            run_id=args.get("run_id") or "manual",
            source_schema=args.get("source_schema"),
        ),
        secret,
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
