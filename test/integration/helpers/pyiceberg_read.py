"""Reads a shoplake Iceberg table with pyiceberg (the reference reader) and prints JSON.

Usage: pyiceberg_read.py <metadata.json> [--snapshot ID]... [--filter-day-from ISO] [--filter EXPR]...

Output: {"schema": <Iceberg JSON schema>, "spec": [...], "snapshots": [...],
         "reads": {"current" | "<id>": {"rows": [...], "files": N}}, "filtered": {...},
         "filters": {"<EXPR>": {"rows": [...], "files": N}}}
Rows are canonical JSON: timestamps as ISO-8601 UTC with milliseconds, dates as YYYY-MM-DD,
decimals as strings, maps as objects, so the test can compare them with other readers.
"""

import argparse
import datetime
import decimal
import json
import sys

from pyiceberg.table import StaticTable
from pyiceberg.types import (
    DateType,
    DecimalType,
    ListType,
    MapType,
    StructType,
    TimestampType,
    TimestamptzType,
)


def canon(value, typ):
    if value is None:
        return None
    if isinstance(typ, (TimestamptzType, TimestampType)):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        utc = value.astimezone(datetime.timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    if isinstance(typ, DateType):
        return value.isoformat()
    if isinstance(typ, DecimalType):
        return str(value.quantize(decimal.Decimal(1).scaleb(-typ.scale)))
    if isinstance(typ, ListType):
        return [canon(v, typ.element_type) for v in value]
    if isinstance(typ, MapType):
        items = value.items() if isinstance(value, dict) else value
        return {str(k): canon(v, typ.value_type) for k, v in sorted(items)}
    if isinstance(typ, StructType):
        return {f.name: canon(value.get(f.name), f.field_type) for f in typ.fields}
    return value


def read(table, snapshot_id=None, row_filter=None):
    kwargs = {}
    if snapshot_id is not None:
        kwargs["snapshot_id"] = snapshot_id
    if row_filter is not None:
        kwargs["row_filter"] = row_filter
    scan = table.scan(**kwargs)
    schema = scan.projection()
    rows = scan.to_arrow().to_pylist()
    files = len(list(scan.plan_files()))
    return {
        "rows": [{f.name: canon(r.get(f.name), f.field_type) for f in schema.fields} for r in rows],
        "files": files,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("metadata")
    parser.add_argument("--snapshot", action="append", type=int, default=[])
    parser.add_argument("--filter-day-from")
    parser.add_argument("--filter", action="append", default=[])
    args = parser.parse_args()

    table = StaticTable.from_metadata(args.metadata)
    out = {
        "schema": json.loads(table.schema().model_dump_json(by_alias=True, exclude_none=True)),
        "spec": json.loads(table.spec().model_dump_json(by_alias=True))["fields"],
        "snapshots": [
            {"id": s.snapshot_id, "operation": s.summary.operation.value if s.summary else None}
            for s in table.snapshots()
        ],
        "reads": {"current": read(table)},
    }
    for sid in args.snapshot:
        out["reads"][str(sid)] = read(table, snapshot_id=sid)
    if args.filter_day_from:
        out["filtered"] = read(table, row_filter=f"event_time >= '{args.filter_day_from}'")
    out["filters"] = {expr: read(table, row_filter=expr) for expr in args.filter}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
