"""AWS Lambda entry point of the model step (Python 3.12, ARM64): the state machine's task input
is the event; the result is the task output. Objects are S3 URIs."""

from __future__ import annotations

from .pipeline import run


def handler(event: dict, _context: object) -> dict:
    return run(event)
