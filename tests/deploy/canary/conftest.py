"""Canary releases against a real Prometheus scraping an exporter the tests control.

One Prometheus (Debian's binary, started here on a free port) serves every test of this
package: its first scrape comes about 5s after it starts. Tests keep apart by Deployment
name: the exporter labels each Deployment's series with it, and a test's canary is
``<its deployment>-canary``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.metrics_exporter import Exporter, Traffic, start_exporter
from support.prometheus_server import Prometheus, start_prometheus
from support.sandbox import GOOD, deployment
from support.smoke_server import SmokeServer

from cdgen.deploy.cli import run

from ..conftest import NAMESPACE, Run, Sandbox, parse_outputs

Shape = Callable[[str, dict[str, Any]], "Traffic | None"]
CanaryDeploy = Callable[..., Run]
STABLE_REPLICAS = 19  # 5% of the traffic is one canary pod beside 19 stable ones
ERROR_RATE = (
    'sum(rate(http_requests_total{deployment="$canary",code=~"5.."}[1m])) / '
    'sum(rate(http_requests_total{deployment="$canary"}[1m]))'
)
P95 = (
    "histogram_quantile(0.95, sum by (le) "
    '(rate(http_request_duration_seconds_bucket{deployment="$canary"}[1m])))'
)
METRICS = [
    {"name": "error-rate", "query": ERROR_RATE, "max": 0.01},
    {"name": "p95-latency", "query": P95, "max": 0.5},
]


def analysis(url: str, **changes: Any) -> str:
    return json.dumps(
        {"prometheus": url, "interval": "1s", "on-no-data": "fail", "metrics": METRICS, **changes}
    )


def readable(result: Run) -> str:
    """The log as a person reads it on GitHub (workflow commands escape % and newlines)."""
    log = result.log.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":")
    return log.replace("%2C", ",").replace("%25", "%")


def healthy(_name: str, _record: dict[str, Any]) -> Traffic:
    return Traffic()


@pytest.fixture(scope="session")
def exporter() -> Iterator[Exporter]:
    served = start_exporter(dict)
    yield served
    served.shutdown()
    served.server_close()


@pytest.fixture(scope="session")
def prometheus(
    exporter: Exporter, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    server = start_prometheus(tmp_path_factory.mktemp("prometheus"), [exporter.address])
    yield server
    server.stop()


@pytest.fixture
def serve(exporter: Exporter, sandbox: Sandbox) -> Iterator[Callable[[Shape], None]]:
    """Make the exporter serve, for every Deployment of the simulator running pods, the
    Traffic that ``shape(name, record)`` gives it (None: no series)."""

    def set_shape(shape: Shape) -> None:
        def traffic() -> dict[str, Traffic]:
            found = {}
            for key, record in sandbox.state()["deployments"].items():
                name = key.split("/", 1)[1]
                if record.get("replicas", 1) and (shaped := shape(name, record)) is not None:
                    found[name] = shaped
            return found

        exporter.traffic = traffic

    yield set_shape
    exporter.traffic = dict


def add_stable(sandbox: Sandbox, name: str, replicas: int = STABLE_REPLICAS, **spec: Any) -> None:
    """A stable Deployment ``name`` in the staging namespace, running GOOD."""
    state = sandbox.state()
    state["deployments"][f"{NAMESPACE}/{name}"] = deployment(GOOD, name, replicas=replicas, **spec)
    sandbox.save(state)


@pytest.fixture
def canary_deploy(tmp_path: Path, server: SmokeServer) -> CanaryDeploy:
    """Run the engine's CLI in-process as the conftest's deploy does, a canary's pauses
    shortened by ``time_scale``."""

    def invoke(
        name: str, *argv: str, env: dict[str, str] | None = None, time_scale: float = 1.0
    ) -> Run:
        output_file, summary_file = tmp_path / "github_output", tmp_path / "step_summary"
        for path in (output_file, summary_file):
            path.write_text("", encoding="utf-8")
        environ = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
            "CDGEN_NAMESPACE": NAMESPACE,
            "CDGEN_DEPLOYMENT": name,
            "CDGEN_CONTAINER": name,
            "CDGEN_ROLLOUT_TIMEOUT": "2s",
            "CDGEN_SMOKE_URL": f"{server.url}/{NAMESPACE}/{name}",
            "CDGEN_SMOKE_RETRIES": "0",
            "CDGEN_SMOKE_INTERVAL": "0s",
            "CDGEN_SMOKE_TIMEOUT": "2s",
            "CDGEN_STRATEGY": "canary",
            **(env or {}),
        }
        stream = io.StringIO()
        code = run(list(argv), environ, stream, time_scale=time_scale)
        outputs = parse_outputs(output_file.read_text(encoding="utf-8"))
        return Run(code, stream.getvalue(), outputs, summary_file.read_text(encoding="utf-8"))

    return invoke
