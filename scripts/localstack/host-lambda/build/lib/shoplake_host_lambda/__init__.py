"""
A LocalStack Lambda runtime executor (``LAMBDA_RUNTIME_EXECUTOR=host-node``) that runs a
function's Node.js handler as a plain host process instead of a Docker container.

What it does:
- ``prepare_version`` unzips the function's code (LocalStack's own code store).
- ``start`` spawns ``node bootstrap.mjs`` with the environment LocalStack computed for the
  function (its ``Environment.Variables``, ``_HANDLER``, the role's credentials,
  ``AWS_ENDPOINT_URL`` pointing back at LocalStack); ``LAMBDA_TASK_ROOT`` is the unzipped code
  directory. The bootstrap imports the handler module named by ``_HANDLER`` from there and
  reports ready to LocalStack's executor endpoint.
- ``invoke`` hands the invocation to the bootstrap's HTTP port (127.0.0.1, a free port); the
  bootstrap posts the result, error or timeout back to LocalStack, as the Lambda runtime
  interface emulator does inside LocalStack's containers.

What it is not:
- The runtime is the host's ``node`` (``SHOPLAKE_LAMBDA_NODE`` or the first ``node`` on PATH),
  whatever the function declares (``nodejs24.x`` on ``arm64`` for shoplake). Code that needs a
  newer Node than the host's fails here and not on AWS.
- No isolation: the handler runs as the LocalStack user, sees the host file system and
  network, and memory size is not enforced. Only Node.js runtimes are supported; other
  runtimes fail to start with a clear error.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path


from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

LOG = logging.getLogger(__name__)

BOOTSTRAP = Path(__file__).with_name("bootstrap.mjs")


def _node_binary() -> str:
    node = os.environ.get("SHOPLAKE_LAMBDA_NODE") or shutil.which("node")
    if not node:
        raise LambdaRuntimeException("host-node executor: no `node` on PATH (set SHOPLAKE_LAMBDA_NODE)")
    return node


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HostNodeRuntimeExecutor(RuntimeExecutor):
    """One host ``node`` process per execution environment."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = ExecutorEndpoint(self.id)
        self.process: subprocess.Popen | None = None
        self._log_lines: list[str] = []
        self._log_lock = threading.Lock()

    def start(self, env_vars: dict[str, str]) -> None:
        runtime = str(self.function_version.config.runtime or "")
        if not runtime.startswith("nodejs"):
            raise LambdaRuntimeException(
                f"host-node executor runs Node.js handlers only; {self.function_version.id.function_name} has runtime {runtime or 'image'}"
            )
        code_dir = str(self.function_version.config.code.get_unzipped_code_location())
        port = _free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            **{k: str(v) for k, v in env_vars.items()},
            "LAMBDA_TASK_ROOT": code_dir,
            "SHOPLAKE_HOST_LAMBDA_PORT": str(port),
        }
        self.executor_endpoint.container_address = "127.0.0.1"
        self.executor_endpoint.container_port = port
        self.executor_endpoint.start()
        self.process = subprocess.Popen(
            [_node_binary(), "--enable-source-maps", str(BOOTSTRAP)],
            cwd=code_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._pump_output, daemon=True).start()
        self.executor_endpoint.wait_for_startup()

    def _pump_output(self) -> None:
        assert self.process and self.process.stdout
        name = self.function_version.id.function_name
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._log_lock:
                self._log_lines.append(line)
                del self._log_lines[:-2000]
            LOG.debug("[%s] %s", name, line)
        code = self.process.wait()
        if not self.executor_endpoint.startup_future.done():
            self.executor_endpoint.startup_future.set_exception(
                LambdaRuntimeException(f"host-node process for {name} exited with {code} before it was ready")
            )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 15)
                self.process.wait(timeout=5)
            except Exception:  # noqa: BLE001 - best effort, then SIGKILL
                try:
                    os.killpg(self.process.pid, 9)
                except ProcessLookupError:
                    pass
        try:
            self.executor_endpoint.shutdown()
        except Exception as e:  # noqa: BLE001
            LOG.debug("host-node executor %s: endpoint shutdown: %s", self.id, e)

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        return f"http://127.0.0.1:{port}{self.executor_endpoint.get_endpoint_prefix()}"

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        return self.executor_endpoint.invoke(payload)

    def get_logs(self) -> str:
        with self._log_lock:
            return "\n".join(self._log_lines)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        try:
            version = subprocess.run([_node_binary(), "--version"], capture_output=True, text=True, check=True)
            LOG.info("host-node Lambda executor: handlers run on the host's Node %s", version.stdout.strip())
            return True
        except Exception as e:  # noqa: BLE001
            LOG.warning("host-node Lambda executor: %s", e)
            return False


class HostNodeRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "host-node"

    def load(self, *args, **kwargs):
        return HostNodeRuntimeExecutor

