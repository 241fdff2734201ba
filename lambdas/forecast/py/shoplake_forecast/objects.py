"""Reads and writes objects by URI: `s3://bucket/key` on AWS (boto3, in the Lambda runtime),
`file:///path` locally (the local runner's stand-in for S3)."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse


def _s3():
    import boto3  # available in the AWS Lambda Python runtime

    return boto3.client("s3")


def read(uri: str) -> bytes:
    u = urlparse(uri)
    if u.scheme == "s3":
        return _s3().get_object(Bucket=u.netloc, Key=u.path.lstrip("/"))["Body"].read()
    if u.scheme in ("file", ""):
        with open(unquote(u.path), "rb") as f:
            return f.read()
    raise ValueError(f"unsupported URI scheme: {uri}")


def write(uri: str, data: bytes) -> None:
    u = urlparse(uri)
    if u.scheme == "s3":
        _s3().put_object(Bucket=u.netloc, Key=u.path.lstrip("/"), Body=data)
        return
    if u.scheme in ("file", ""):
        path = unquote(u.path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return
    raise ValueError(f"unsupported URI scheme: {uri}")


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])
