"""Schema checks between a source table (PostgreSQL) and its bronze table (pure functions).

- A column the source has and bronze lacks is *added* to bronze (Iceberg schema evolution).
- A bronze column the source no longer has (dropped), or whose source type no longer maps to
  the bronze type (retyped), fails the extract naming the table and column, before anything
  of the source is written.
Types are compared in Spark's simple-string names of the Iceberg types.
"""

from __future__ import annotations

from dataclasses import dataclass

# information_schema.columns.data_type -> the bronze (Spark/Iceberg) type it lands as.
# Bronze keeps raw sources as they are, with money as double (lake catalog convention).
PG_TO_SPARK: dict[str, str] = {
    "text": "string",
    "character varying": "string",
    "character": "string",
    "uuid": "string",
    "json": "string",
    "jsonb": "string",
    "smallint": "int",
    "integer": "int",
    "bigint": "bigint",
    "numeric": "double",
    "double precision": "double",
    "real": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp with time zone": "timestamp",
    "timestamp without time zone": "timestamp_ntz",
}

# A source type may land in a wider bronze type without a schema change.
WIDENINGS: dict[str, set[str]] = {"int": {"bigint", "double"}, "bigint": {"double"}}

# PostgreSQL cast making the JDBC value arrive as the bronze type.
SPARK_TO_PG_CAST: dict[str, str] = {
    "string": "text",
    "int": "int4",
    "bigint": "int8",
    "double": "float8",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamptz",
    "timestamp_ntz": "timestamp",
}


class SchemaDriftError(Exception):
    """A source column was dropped or retyped: the extract writes nothing."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems) + " -- nothing was written")


@dataclass(frozen=True)
class SchemaPlan:
    table: str
    # (column, bronze type) pairs to read, in bronze order, then the added ones
    columns: tuple[tuple[str, str], ...]
    added: tuple[tuple[str, str], ...]


def spark_type_of(pg_type: str) -> str:
    return PG_TO_SPARK.get(pg_type.lower(), "string")


def plan_schema(
    table: str,
    source_columns: list[tuple[str, str]],
    bronze_columns: list[tuple[str, str]],
    lake_columns: tuple[str, ...],
) -> SchemaPlan:
    """Compares source columns [(name, pg data_type)] with bronze columns [(name, spark type)].

    Raises SchemaDriftError listing every dropped or retyped column of the table; otherwise
    returns what to read and which columns to add to bronze.
    """
    source = {n.lower(): spark_type_of(t) for n, t in source_columns}
    source_raw = {n.lower(): t for n, t in source_columns}
    problems: list[str] = []
    read: list[tuple[str, str]] = []
    known = set()
    for name, bronze_type in bronze_columns:
        lname = name.lower()
        if lname in lake_columns:
            continue
        known.add(lname)
        if lname not in source:
            problems.append(
                f"{table}: column {name} was dropped from the source (bronze has it as {bronze_type})"
            )
            continue
        got = source[lname]
        if got != bronze_type and bronze_type not in WIDENINGS.get(got, set()):
            problems.append(
                f"{table}: column {name} changed type in the source to {source_raw[lname]} "
                f"({got}); bronze has {bronze_type}"
            )
            continue
        read.append((lname, bronze_type))
    if problems:
        raise SchemaDriftError(problems)
    added = tuple(
        (n.lower(), source[n.lower()])
        for n, _ in source_columns
        if n.lower() not in known and n.lower() not in lake_columns
    )
    return SchemaPlan(table, tuple(read) + added, added)


def select_sql(schema: str, table: str, columns: tuple[tuple[str, str], ...], where: str | None) -> str:
    """The source query: every planned column cast to its bronze type."""
    cols = ", ".join(f'CAST({quote_ident(c)} AS {SPARK_TO_PG_CAST[t]}) AS {quote_ident(c)}' for c, t in columns)
    sql = f"SELECT {cols} FROM {quote_ident(schema)}.{quote_ident(table)}"
    return f"{sql} WHERE {where}" if where else sql


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
