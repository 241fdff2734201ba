"""shoplake's Glue jobs: the shop's PostgreSQL (OLTP) and marketing database into bronze Iceberg.

The same package runs on AWS Glue 5.0 (glue-jobs/extract_job.py) and on plain local Spark
(glue-jobs/local_run.py); only the entry points differ (how arguments, the Spark session and
the database secret are obtained).
"""

from .extract import ExtractConfig, SchemaDriftError, run_source
from .sources import SOURCES, SourceTable

__all__ = ["ExtractConfig", "SchemaDriftError", "SOURCES", "SourceTable", "run_source"]
