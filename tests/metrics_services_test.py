"""`cdgen metrics` in a monorepo: `--service` measures the deploys whose record names that
service, and a services descriptor without it is measured service by service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.deploy_history import HOUR, REPO, SINCE, UNTIL, Seeder
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.http_json import TOKEN

from cdgen.cli import main

STATUSES = "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses"
SERVICES_DESCRIPTOR = """\
version: 1
name: shop
services:
  - name: cart
    image: {context: src/cart}
  - name: web
    image: {context: src/web}
  - name: api
    image: {context: src/api}
environments:
  - name: production
    url: https://shop.example.com
    kubernetes: {kubeconfig-secret: KUBE_CONFIG, namespace: shop}
"""
SINGLE_DESCRIPTOR = """\
version: 1
name: api
environments:
  - name: production
    url: https://example.com
    kubernetes: {kubeconfig-secret: KUBE_CONFIG, namespace: prod, deployment: api}
"""


@pytest.fixture
def state() -> GitHubState:
    """cart: a predecessor, two successes and a failure in the window; web: one success and
    an older record after the window's first; api: nothing; plus an unnamed record."""
    seeded = GitHubState()
    cart = Seeder(seeded, service="cart")
    web = Seeder(seeded, service="web")
    c0, c1, c2, c3 = cart.commits(4, first=-60, step=10)
    cart.success(c0, -20)  # the predecessor, before the window
    web.success(c1, 2)
    cart.success(c1, 3)
    cart.failure(c2, 30)
    cart.success(c3, 40, took=0.5)
    Seeder(seeded).success(c3, 50)  # a record that names no service
    return seeded


@pytest.fixture
def api(state: GitHubState) -> Iterator[GitHubApi]:
    with GitHubApi(state) as server:
        yield server


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return tmp_path


def run(api: GitHubApi, *args: str) -> int:
    window = ["--since", SINCE, "--until", UNTIL]
    return main(["metrics", "--api-url", api.url, "--repo", REPO, *window, *args])


def json_out(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_service_counts_only_its_own_records(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cwd / "cdgen.yml").write_text(SERVICES_DESCRIPTOR)
    assert run(api, "--service", "cart", "--format", "json") == 0
    data = json_out(capsys)
    assert data["service"] == "cart"
    assert data["deployments"] == {"total": 3, "successful": 2, "failed": 1}
    assert data["recovery_time_seconds"]["failures_recovered"] == 1
    assert data["recovery_time_seconds"]["median"] == 10.25 * HOUR  # 30.25 to 40.5
    # Lead time against cart's own predecessor: c1 live at 3.25 (committed at -50), c2
    # and c3 live at 40.5 (committed at -40 and -30): 53.25, 80.5 and 70.5 hours.
    assert data["lead_time_seconds"]["commits"] == 3
    assert data["lead_time_seconds"]["median"] == 70.5 * HOUR


def test_the_statuses_of_other_services_are_never_read(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str], state: GitHubState
) -> None:
    assert run(api, "--service", "web", "--format", "json") == 0
    data = json_out(capsys)
    assert data["deployments"] == {"total": 1, "successful": 1, "failed": 0}
    read = {int(call.path.split("/")[-2]) for call in api.calls(STATUSES)}
    web_records = {
        d.id
        for repo in state.repos.values()
        for d in repo.deployments.values()
        if d.payload.get("service") == "web"
    }
    assert read == web_records


def test_a_services_descriptor_is_measured_service_by_service(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cwd / "cdgen.yml").write_text(SERVICES_DESCRIPTOR)
    assert run(api, "--format", "json") == 0
    data = json_out(capsys)
    assert (data["repository"], data["environment"]) == (REPO, "production")
    assert [s["service"] for s in data["services"]] == ["cart", "web", "api"]
    totals = [s["deployments"]["total"] for s in data["services"]]
    assert totals == [3, 1, 0]  # the record naming no service is in none of them


def test_the_table_names_each_service(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cwd / "cdgen.yml").write_text(SERVICES_DESCRIPTOR)
    assert run(api) == 0
    out = capsys.readouterr().out
    titles = [line for line in out.splitlines() if line.startswith("DORA metrics for")]
    assert titles == [
        f"DORA metrics for {REPO}, service {name}, environment production"
        for name in ("cart", "web", "api")
    ]


def test_markdown_heads_each_service(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(api, "--service", "cart", "--format", "markdown") == 0
    assert capsys.readouterr().out.startswith("## DORA metrics: acme/api, service cart, ")


def test_without_a_descriptor_the_records_name_the_services(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As in the metrics workflow, which runs without a checkout."""
    assert run(api, "--format", "json") == 0
    data = json_out(capsys)
    assert [s["service"] for s in data["services"]] == ["cart", "web"]
    assert [s["deployments"]["total"] for s in data["services"]] == [3, 1]


def test_records_naming_no_service_are_measured_as_one(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str], state: GitHubState
) -> None:
    for repo in state.repos.values():
        for deployment in repo.deployments.values():
            deployment.payload = {}
    assert run(api, "--format", "json") == 0
    data = json_out(capsys)
    assert "service" not in data and "services" not in data
    assert data["deployments"] == {"total": 5, "successful": 4, "failed": 1}


def test_an_unknown_service_names_the_descriptors(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cwd / "cdgen.yml").write_text(SERVICES_DESCRIPTOR)
    assert run(api, "--service", "carts") == 2
    err = capsys.readouterr().err
    assert "--service carts: not a service of cdgen.yml; known: cart, web, api" in err
    assert api.requests == []  # refused before asking GitHub


def test_an_unknown_service_without_a_descriptor_names_those_recorded(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(api, "--service", "api") == 2
    out = capsys.readouterr()
    assert "--service api: not a service of the deployment records" in out.err
    assert out.err.rstrip().endswith("known: cart, web")
    assert out.out == ""


def test_service_with_a_single_service_descriptor_is_refused(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cwd / "cdgen.yml").write_text(SINGLE_DESCRIPTOR)
    assert run(api, "--service", "api") == 2
    assert "cdgen.yml describes one service, not a `services:` list" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["Cart", "cart;rm", "-cart", "", "a" * 64])
def test_a_malformed_service_name_is_a_usage_error(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert run(api, "--service", name) == 2
    assert "--service must be a service's name" in capsys.readouterr().err
    assert api.requests == []


def test_a_payload_given_as_json_text_names_its_service(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str], state: GitHubState
) -> None:
    (sha,) = Seeder(state).commits(1, first=100)
    state.add_deployment(
        REPO,
        sha,
        statuses=[("in_progress", "2026-09-06T00:00:00Z"), ("success", "2026-09-06T00:10:00Z")],
        created_at="2026-09-06T00:00:00Z",
        payload=json.dumps({"service": "web"}),
    )
    assert run(api, "--service", "web", "--format", "json") == 0
    assert json_out(capsys)["deployments"]["successful"] == 2


def test_reading_stops_once_every_service_has_its_predecessor(
    cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = GitHubState()
    cart, web = Seeder(state, service="cart"), Seeder(state, service="web")
    commits = cart.commits(4, first=-100, step=10)
    older = [cart.success(commits[0], -80), web.success(commits[0], -79)]
    predecessors = [cart.success(commits[1], -40), web.success(commits[2], -30)]
    inside = [web.success(commits[3], 5), cart.success(commits[3], 6)]
    (cwd / "cdgen.yml").write_text(
        SERVICES_DESCRIPTOR.replace("  - name: api\n    image: {context: src/api}\n", "")
    )
    with GitHubApi(state) as api:
        assert run(api, "--format", "json") == 0
        read = {int(call.path.split("/")[-2]) for call in api.calls(STATUSES)}
    assert read == set(predecessors + inside)
    assert not read & set(older)
    assert [s["deployments"]["successful"] for s in json_out(capsys)["services"]] == [1, 1]


def test_a_record_naming_no_proper_service_is_left_out(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str], state: GitHubState
) -> None:
    """A payload is whatever the writer chose: a name with a line break could forge lines."""
    (sha,) = Seeder(state).commits(1, first=100)
    forged = "web\nFORGED line"
    state.add_deployment(
        REPO,
        sha,
        statuses=[("in_progress", "2026-09-06T00:00:00Z"), ("success", "2026-09-06T00:10:00Z")],
        created_at="2026-09-06T00:00:00Z",
        payload={"service": forged},
    )
    assert run(api) == 0
    out = capsys.readouterr().out
    assert "FORGED" not in out
    titles = [line for line in out.splitlines() if line.startswith("DORA metrics for")]
    assert len(titles) == 2  # cart and web
