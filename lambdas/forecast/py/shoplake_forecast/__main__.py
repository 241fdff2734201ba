"""Local entry point (`python -m shoplake_forecast`): reads the task input as JSON on stdin and
prints the task output as JSON on stdout — what the local state-machine runner invokes in place
of the Lambda, running the same `pipeline.run`."""

from __future__ import annotations

import json
import sys

from .pipeline import run


def main() -> int:
    event = json.loads(sys.stdin.read())
    try:
        out = run(event)
    except Exception as e:  # reported to the runner as the task's error, like a Lambda failure
        json.dump({"errorType": type(e).__name__, "errorMessage": str(e)}, sys.stdout)
        return 1
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
