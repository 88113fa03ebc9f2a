"""Fixtures: a kubectl simulator on PATH and a smoke server that answers per live image."""

from __future__ import annotations

import io
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.sandbox import SandboxDir, default_state, write_sandbox
from support.smoke_server import SmokeServer, start_server

from cdgen.deploy.cli import run
from cdgen.deploy.lock import ANNOTATION

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "staging"
# What changes the workload; the deploy lock's annotate is told apart (lock_calls).
MUTATING = {"set", "undo"}
# A workflow run, as GitHub Actions describes it: the deploy lock's holder.
RUN_ENV = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/api",
    "GITHUB_RUN_ID": "42",
    "GITHUB_RUN_ATTEMPT": "1",
}
RUN_URL = "https://github.com/acme/api/actions/runs/42/attempts/1"
REPO = "acme/api"  # GITHUB_REPOSITORY above, in the GitHub API double
TOKEN = "ghs_test_token"


@dataclass
class Sandbox(SandboxDir):
    def update(self, **changes: Any) -> None:
        state = self.state()
        state.update(changes)
        self.save(state)

    def image(self, namespace: str = NAMESPACE) -> str:
        image: str = self.state()["deployments"][f"{namespace}/api"]["containers"]["api"]
        return image

    def calls(self) -> list[list[str]]:
        return [call["argv"] for call in self.state()["calls"]]

    def call_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.state()["calls"]
        return records

    def verbs(self) -> list[str]:
        single = ("get", "annotate")
        return [argv[0] if argv[0] in single else " ".join(argv[:2]) for argv in self.calls()]

    def mutating_calls(self) -> list[list[str]]:
        return [argv for argv in self.calls() if MUTATING & set(argv[:2])]

    def lock_calls(self) -> list[list[str]]:
        return [argv for argv in self.calls() if argv[0] == "annotate"]

    def deployment(self, namespace: str = NAMESPACE) -> dict[str, Any]:
        found: dict[str, Any] = self.state()["deployments"][f"{namespace}/api"]
        return found

    def lock(self, namespace: str = NAMESPACE) -> str | None:
        """The deploy lock's annotation on the Deployment; None when it is free."""
        value: str | None = self.deployment(namespace).get("annotations", {}).get(ANNOTATION)
        return value

    def set_lock(self, value: str, namespace: str = NAMESPACE) -> None:
        state = self.state()
        state["deployments"][f"{namespace}/api"].setdefault("annotations", {})[ANNOTATION] = value
        self.save(state)


def workload(deployment: dict[str, Any]) -> dict[str, Any]:
    """A Deployment as the simulator keeps it, without what every write changes: equal
    before and after a run that changed nothing (the lock taken and freed included)."""
    kept = {key: value for key, value in deployment.items() if key != "resourceVersion"}
    if not kept.get("annotations", True):  # a lock taken and freed leaves an empty map
        del kept["annotations"]
    return kept


@dataclass
class Run:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str
    extra: dict[str, str] = field(default_factory=dict)


Deploy = Callable[..., Run]


def parse_outputs(text: str) -> dict[str, str]:
    """Read GITHUB_OUTPUT's ``name<<DELIMITER`` records."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        name, _, delimiter = line.partition("<<")
        values = []
        for value in lines:
            if value == delimiter:
                break
            values.append(value)
        outputs[name] = "\n".join(values)
    return outputs


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    bin_dir = write_sandbox(tmp_path / "sandbox", default_state([NAMESPACE, "production"]))
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    for name in (
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    return Sandbox(tmp_path / "sandbox", bin_dir)


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[SmokeServer]:
    smoke = start_server(str(sandbox.state_path))
    yield smoke
    smoke.shutdown()
    smoke.server_close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def deploy(tmp_path: Path, server: SmokeServer) -> Deploy:
    """Run the engine's CLI in-process with fast defaults; return what it printed and wrote."""

    def invoke(*argv: str, env: dict[str, str] | None = None, github: bool = True) -> Run:
        output_file = tmp_path / "github_output"
        summary_file = tmp_path / "step_summary"
        for path in (output_file, summary_file):
            path.write_text("", encoding="utf-8")
        environ = {
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
            "CDGEN_NAMESPACE": NAMESPACE,
            "CDGEN_DEPLOYMENT": "api",
            "CDGEN_ROLLOUT_TIMEOUT": "1s",
            "CDGEN_SMOKE_URL": f"{server.url}/{NAMESPACE}/api",
            "CDGEN_SMOKE_RETRIES": "0",
            "CDGEN_SMOKE_INTERVAL": "0s",
            "CDGEN_SMOKE_TIMEOUT": "1s",
            **({"GITHUB_ACTIONS": "true"} if github else {}),
            **(env or {}),
        }
        stream = io.StringIO()
        code = run(list(argv), environ, stream)
        outputs = parse_outputs(output_file.read_text(encoding="utf-8"))
        return Run(code, stream.getvalue(), outputs, summary_file.read_text(encoding="utf-8"))

    return invoke


@pytest.fixture
def state() -> GitHubState:
    """The GitHub API double's data: acme/api with three commits."""
    seeded = GitHubState()
    seeded.add_history(REPO, 3)
    return seeded


@pytest.fixture
def api(state: GitHubState, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubApi]:
    for name in ("http_proxy", "https_proxy", "all_proxy"):  # urllib would use them
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    with GitHubApi(state, tokens=[TOKEN]) as server:
        yield server
