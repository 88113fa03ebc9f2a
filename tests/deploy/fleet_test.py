"""Several services in one step (``services``): each through an engine of its own, in
parallel, against the kubectl simulator; the step's outputs say what became of each, a
later step rolls back what it deployed or closes its records."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.sandbox import DEFAULT_HTTP, GOOD, SandboxDir, deployment, image, write_sandbox
from support.smoke_server import SmokeServer, start_server

from cdgen.deploy.cli import run
from cdgen.deploy.fleet_processes import Relay

from .conftest import RUN_ENV, TOKEN, parse_outputs

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("cart", "catalog", "web")
REPO = "acme/api"  # RUN_ENV's repository


@dataclass
class Step:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str

    @property
    def services(self) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = json.loads(self.outputs["services"])
        return found


class Cluster(SandboxDir):
    def images(self) -> dict[str, str]:
        state = self.state()
        return {
            name: state["deployments"][f"staging/{name}"]["containers"][name] for name in SERVICES
        }

    def set_live(self, name: str, live: str) -> None:
        state = self.state()
        state["deployments"][f"staging/{name}"] = deployment(live, container=name)
        self.save(state)

    def calls(self) -> list[list[str]]:
        return [call["argv"] for call in self.state()["calls"]]


@pytest.fixture
def cluster(tmp_path: Path) -> Cluster:
    state = {
        "deployments": {f"staging/{name}": deployment(container=name) for name in SERVICES},
        "never_ready": [image("never-ready")],
        "http": DEFAULT_HTTP,
        "calls": [],
    }
    return Cluster(tmp_path / "cluster", write_sandbox(tmp_path / "cluster", state))


@pytest.fixture
def server(cluster: Cluster) -> Iterator[SmokeServer]:
    smoke = start_server(str(cluster.state_path))
    yield smoke
    smoke.shutdown()
    smoke.server_close()


def targets(server: SmokeServer, *names: str) -> str:
    return json.dumps([{"service": n, "smoke-url": f"{server.url}/staging/{n}"} for n in names])


def environ(tmp_path: Path, cluster: Cluster, server: SmokeServer, **inputs: str) -> dict[str, str]:
    for name in ("output", "summary"):
        (tmp_path / name).write_text("", encoding="utf-8")
    return {
        **os.environ,
        **RUN_ENV,
        "PATH": f"{cluster.bin_dir}:/usr/bin:/bin",
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "CDGEN_ENVIRONMENT": "staging",
        "CDGEN_NAMESPACE": "staging",
        "CDGEN_ROLLOUT_TIMEOUT": "2s",
        "CDGEN_SMOKE_RETRIES": "0",
        "CDGEN_SMOKE_INTERVAL": "0s",
        "CDGEN_SERVICES": targets(server, *SERVICES),
        **{"CDGEN_" + k.upper(): v for k, v in inputs.items()},
    }


def step(tmp_path: Path, env: dict[str, str]) -> Step:
    stream = io.StringIO()
    code = run([], env, stream)
    outputs = parse_outputs((tmp_path / "output").read_text(encoding="utf-8"))
    return Step(code, stream.getvalue(), outputs, (tmp_path / "summary").read_text("utf-8"))


def deploy(tmp_path: Path, cluster: Cluster, server: SmokeServer, **images: str) -> Step:
    given = json.dumps({name: image(tag) for name, tag in images.items()})
    return step(tmp_path, environ(tmp_path, cluster, server, images=given))


def test_every_service_named_is_deployed(
    tmp_path: Path, cluster: Cluster, server: SmokeServer
) -> None:
    done = deploy(tmp_path, cluster, server, cart="v2", catalog="v2", web="v2")
    assert done.code == 0
    assert done.outputs["result"] == "deployed"
    assert cluster.images() == dict.fromkeys(SERVICES, image("v2"))
    assert done.services["cart"] == {
        "result": "deployed",
        "previous-image": GOOD,
        "deployed-image": image("v2"),
        "deployment-id": "",
    }
    assert "| web | deployed | `ghcr.io/acme/api:v2` |" in done.summary
    assert "::notice title=Deployed::[catalog] ghcr.io/acme/api:v2 is live in staging" in done.log


def test_the_services_deploy_at_the_same_time(
    tmp_path: Path, cluster: Cluster, server: SmokeServer
) -> None:
    """Each smoke test of the slow image takes 3 seconds: both images are set before
    either deploy ends (its lock released)."""
    done = deploy(tmp_path, cluster, server, cart="slow", web="slow")
    assert done.code == 0
    calls = cluster.calls()
    sets = [i for i, argv in enumerate(calls) if argv[:2] == ["set", "image"]]
    releases = [
        i for i, argv in enumerate(calls) if argv[0] == "annotate" and argv[2].endswith("-")
    ]
    assert len(sets) == 2
    assert max(sets) < min(releases)


def test_a_service_left_out_or_with_no_image_is_not_touched(
    tmp_path: Path, cluster: Cluster, server: SmokeServer
) -> None:
    given = json.dumps({"cart": image("v2"), "catalog": ""})
    done = step(tmp_path, environ(tmp_path, cluster, server, images=given))
    assert done.code == 0
    assert cluster.images() == {"cart": image("v2"), "catalog": GOOD, "web": GOOD}
    assert set(done.services) == {"cart"}
    assert not any("deployment/web" in " ".join(argv) for argv in cluster.calls())


def test_one_failure_fails_the_step_and_says_what_each_did(
    tmp_path: Path, cluster: Cluster, server: SmokeServer
) -> None:
    done = deploy(tmp_path, cluster, server, cart="v2", catalog="broken", web="v2")
    assert done.code == 1
    assert done.outputs["result"] == "failed"
    assert done.services["catalog"]["result"] == "rolled-back"
    assert done.services["cart"]["result"] == "deployed"
    # The failed service undid itself; the others wait for the rollback step.
    assert cluster.images() == {"cart": image("v2"), "catalog": GOOD, "web": image("v2")}
    assert "::error title=Services failed::deploy did not succeed for: catalog" in done.log


def test_the_rollback_step_puts_back_what_the_deploy_step_changed(
    tmp_path: Path, cluster: Cluster, server: SmokeServer
) -> None:
    done = deploy(tmp_path, cluster, server, cart="v2", catalog="broken", web="v2")
    # Meanwhile a newer run deployed web: that one is not this run's to undo.
    cluster.set_live("web", image("v3"))
    back = step(
        tmp_path,
        environ(tmp_path, cluster, server, mode="rollback", results=done.outputs["services"]),
    )
    assert back.code == 0
    assert cluster.images() == {"cart": GOOD, "catalog": GOOD, "web": image("v3")}
    assert back.services["cart"]["result"] == "rolled-back"
    assert back.services["web"]["result"] == "skipped"
    assert "catalog" not in back.services  # its own engine rolled it back


def test_records_name_each_service_and_are_closed_by_the_later_steps(
    tmp_path: Path, cluster: Cluster, server: SmokeServer
) -> None:
    state = GitHubState()
    commit = state.add_history(REPO, 1)[0]
    with GitHubApi(state, tokens=[TOKEN]) as api:
        recorded = {
            "github_token": TOKEN,
            "commit": commit,
            "record_open": "true",
            "environment_url": "https://staging.example.com",
        }
        env = environ(tmp_path, cluster, server, **recorded)
        env["GITHUB_API_URL"] = api.url
        env["CDGEN_IMAGES"] = json.dumps({n: image("v2") for n in ("cart", "web")})
        done = step(tmp_path, env)
        assert done.code == 0
        deployments = list(state.repos[REPO].deployments.values())
        assert sorted(d.payload["service"] for d in deployments) == ["cart", "web"]
        assert {d.environment for d in deployments} == {"staging"}
        assert {d.latest_state for d in deployments} == {"in_progress"}
        closing = {
            **env,
            "CDGEN_MODE": "record",
            "CDGEN_RESULTS": done.outputs["services"],
            "CDGEN_RECORD_STATE": "success",
            "CDGEN_RECORD_DESCRIPTION": "all passed",
        }
        del closing["CDGEN_IMAGES"], closing["CDGEN_SERVICES"]  # a record needs no Deployment
        closed = step(tmp_path, closing)
        assert (closed.code, closed.outputs["result"]) == (0, "recorded")
        assert {d.latest_state for d in deployments} == {"success"}
        assert {d.statuses[-1].description for d in deployments} == {"all passed"}


def test_a_rollback_closes_the_records_as_failures(
    tmp_path: Path, cluster: Cluster, server: SmokeServer
) -> None:
    state = GitHubState()
    commit = state.add_history(REPO, 1)[0]
    with GitHubApi(state, tokens=[TOKEN]) as api:
        env = environ(
            tmp_path, cluster, server, github_token=TOKEN, commit=commit, record_open="true"
        )
        env["GITHUB_API_URL"] = api.url
        env["CDGEN_IMAGES"] = json.dumps({"cart": image("v2"), "web": image("broken")})
        done = step(tmp_path, env)
        assert done.code == 1
        back = {
            **env,
            "CDGEN_MODE": "rollback",
            "CDGEN_RESULTS": done.outputs["services"],
            "CDGEN_RECORD_DESCRIPTION": "a service of this run did not deploy",
        }
        del back["CDGEN_IMAGES"]
        assert step(tmp_path, back).code == 0
        by_service = {d.payload["service"]: d for d in state.repos[REPO].deployments.values()}
        # Only the deploys write records; the rollback of cart wrote none of its own.
        assert sorted(by_service) == ["cart", "web"] and len(state.repos[REPO].deployments) == 2
        assert by_service["cart"].latest_state == "failure"
        assert by_service["cart"].statuses[-1].description == (
            "a service of this run did not deploy; rolled back"
        )
        assert by_service["web"].latest_state == "failure"  # closed by its own engine
    assert cluster.images() == dict.fromkeys(SERVICES, GOOD)


def test_verify_checks_every_image_is_the_live_one(
    tmp_path: Path, cluster: Cluster, server: SmokeServer
) -> None:
    deploy(tmp_path, cluster, server, cart="v2", web="v2")
    images = json.dumps({"cart": image("v2"), "web": image("v2")})
    assert (
        step(tmp_path, environ(tmp_path, cluster, server, mode="verify", images=images)).code == 0
    )
    cluster.set_live("web", image("v3"))
    checked = step(tmp_path, environ(tmp_path, cluster, server, mode="verify", images=images))
    assert checked.code == 1
    assert checked.services["web"]["result"] == "failed"
    assert checked.services["cart"]["result"] == "verified"


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        ({"images": json.dumps({"nope": "ghcr.io/a/b:1"})}, "images.nope: no such service"),
        ({"images": "[1]"}, "images: must be a JSON object"),
        ({"images": "{", "deployment": "api"}, "deployment: must be empty with `services`"),
        ({"results": "{}"}, "mode deploy with `services` takes `images`"),
        ({"images": "{}", "services": '[{"service": "Cart"}]'}, "`service` is not a service"),
        ({"images": "{}", "services": '[{"service": "a", "deployment": 1}]'}, "strings"),
    ],
)
def test_bad_inputs_change_nothing(
    tmp_path: Path, cluster: Cluster, server: SmokeServer, inputs: dict[str, str], problem: str
) -> None:
    done = step(tmp_path, environ(tmp_path, cluster, server, **inputs))
    assert done.code == 2
    assert problem in done.log
    assert cluster.calls() == []


def test_a_cancelled_step_passes_the_signal_on_and_reports(
    tmp_path: Path, cluster: Cluster, server: SmokeServer
) -> None:
    """SIGTERM while the rollouts wait: each engine undoes its own change; the outputs still
    say what each did, for the rollback step."""
    env = environ(
        tmp_path,
        cluster,
        server,
        rollout_timeout="60s",
        images=json.dumps({n: image("never-ready") for n in ("cart", "web")}),
    )
    env["PYTHONPATH"] = str(ROOT / "generator")
    child = subprocess.Popen(
        [sys.executable, "-m", "cdgen.deploy"], env=env, stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while sum(argv[:2] == ["rollout", "status"] for argv in cluster.calls()) < 2:
        assert time.monotonic() < deadline, "the rollouts never started"
        time.sleep(0.1)
    child.send_signal(signal.SIGTERM)
    log, _ = child.communicate(timeout=60)
    assert child.returncode == 128 + signal.SIGTERM
    outputs = parse_outputs((tmp_path / "output").read_text(encoding="utf-8"))
    assert outputs["result"] == "failed"
    assert set(json.loads(outputs["services"])) == {"cart", "web"}
    assert sum(argv[:2] == ["rollout", "undo"] for argv in cluster.calls()) == 2
    assert "cancelled by SIGTERM" in (tmp_path / "summary").read_text(encoding="utf-8")
    assert "[cart]" in log and "[web]" in log


def test_the_relay_keeps_each_line_to_its_service() -> None:
    stream = io.StringIO()
    lines = [
        "::add-mask::s3cret",
        "::group::Smoke test https://x",
        "::endgroup::",
        "::error title=Smoke test failed::HTTP 500",
        "::stop-commands::abc123",
        "::error::from kubectl, not a command",
        "::abc123::",
        "plain",
    ]
    Relay(stream).follow("cart", [line + "\n" for line in lines])
    assert stream.getvalue().splitlines() == [
        "::add-mask::s3cret",
        "[cart] ▶ Smoke test https://x",
        "::error title=Smoke test failed::[cart] HTTP 500",
        "[cart] ::error::from kubectl, not a command",
        "[cart] plain",
    ]


def _engine_of(parent: int, service: str) -> int | None:
    """The pid of the engine the fleet process ``parent`` runs for ``service``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text(encoding="utf-8")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        if int(ppid) == parent and f"CDGEN_SERVICE={service}".encode() in environ:
            return int(entry.name)
    return None


def test_an_engine_killed_mid_deploy_is_reported_loudly(
    tmp_path: Path, cluster: Cluster, server: SmokeServer
) -> None:
    """An engine killed (SIGKILL, the OOM killer) after it set its image cannot undo it, and
    leaves no result the rollback step can act on: the step says so, loudly, with what to run."""
    env = environ(
        tmp_path,
        cluster,
        server,
        rollout_timeout="60s",
        images=json.dumps({"cart": image("never-ready"), "web": image("v2")}),
    )
    env["PYTHONPATH"] = str(ROOT / "generator")
    child = subprocess.Popen(
        [sys.executable, "-m", "cdgen.deploy"], env=env, stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    engine = None
    while engine is None or not any(
        argv[:2] == ["rollout", "status"] and "deployment/cart" in argv for argv in cluster.calls()
    ):
        assert time.monotonic() < deadline, "cart's rollout never started"
        time.sleep(0.1)
        engine = _engine_of(child.pid, "cart")
    os.kill(engine, signal.SIGKILL)
    started = time.monotonic()
    log, _ = child.communicate(timeout=90)
    assert time.monotonic() - started < 30, "the step waited for the killed engine's kubectl"
    assert child.returncode == 1
    outputs = parse_outputs((tmp_path / "output").read_text(encoding="utf-8"))
    assert json.loads(outputs["services"])["cart"]["result"] == "failed"
    assert cluster.images()["cart"] == image("never-ready")  # nothing undid it
    assert "::error title=NOT ROLLED BACK%3A environment may be degraded::[cart]" in log
    assert "killed by SIGKILL" in log
    assert "kubectl rollout undo deployment/cart --namespace=staging" in log
    summary = (tmp_path / "summary").read_text(encoding="utf-8")
    assert "may be degraded" in summary
