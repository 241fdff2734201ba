"""Database secrets: the RDS secret format to JDBC options; the local URL adapter (pure)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from local_run import secret_from_url  # noqa: E402
from shoplake_glue.extract import jdbc_options  # noqa: E402


def test_rds_secret_to_jdbc_with_ssl_required_by_default():
    o = jdbc_options({"username": "u", "password": "p@ss", "host": "db.internal", "port": 5433, "dbname": "shop"})
    assert o["url"] == "jdbc:postgresql://db.internal:5433/shop?sslmode=require"
    assert (o["user"], o["password"], o["driver"]) == ("u", "p@ss", "org.postgresql.Driver")
    assert "p@ss" not in o["url"]


def test_jdbc_url_in_the_secret_wins():
    o = jdbc_options({"username": "u", "password": "p", "jdbc_url": "jdbc:postgresql://x:1/y?ssl=true"})
    assert o["url"] == "jdbc:postgresql://x:1/y?ssl=true"


def test_incomplete_secret_is_refused_without_echoing_it():
    with pytest.raises(ValueError) as e:
        jdbc_options({"username": "u", "password": "secret-value"})
    assert "secret-value" not in str(e.value)


def test_local_url_becomes_the_rds_secret_format():
    s = secret_from_url("postgres://shop%40user:p%2Fw@127.0.0.1:5544/shop?sslmode=disable")
    assert s == {
        "username": "shop@user",
        "password": "p/w",
        "host": "127.0.0.1",
        "port": 5544,
        "dbname": "shop",
        "sslmode": "disable",
    }
    with pytest.raises(ValueError):
        secret_from_url("mysql://x/y")
