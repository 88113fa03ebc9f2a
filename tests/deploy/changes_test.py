"""``mode: changes`` against real git histories and the GitHub API double: a service changed
when a file its paths cover differs from the commit of its last successful deploy; every
service when that cannot be told (no record, a commit this clone lacks, records that cannot
be read, a new branch, a manual run)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.git_history import GitHistory
from support.github_api import GitHubApi
from support.github_state import GitHubState

from cdgen.deploy.changes import Verdict, render_summary
from cdgen.deploy.cli import run

from .conftest import TOKEN, parse_outputs

REPO = "acme/shop"
SERVICES = [
    {"service": "cart", "paths": ["src/cart"], "context": "src/cart", "test": "go test ./..."},
    {"service": "catalog", "paths": ["src/catalog", "libs/**/*.go"], "context": "src/catalog"},
    {"service": "web", "paths": ["src/web/*.json", "src/web/app"], "context": "src/web"},
]
FILES = {
    "src/cart/main.go": "package main\n",
    "src/catalog/main.go": "package main\n",
    "libs/db/db.go": "package db\n",
    "src/web/package.json": "{}\n",
    "src/web/app/index.js": "x\n",
    "README.md": "shop\n",
}


@dataclass
class Step:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str

    @property
    def changed(self) -> list[str]:
        names: list[str] = json.loads(self.outputs["services"])
        return names


@pytest.fixture
def state() -> GitHubState:
    return GitHubState()


@pytest.fixture
def api(state: GitHubState) -> Iterator[GitHubApi]:
    with GitHubApi(state, tokens=[TOKEN]) as server:
        yield server


@pytest.fixture
def history(tmp_path: Path, state: GitHubState) -> GitHistory:
    found = GitHistory(tmp_path / "shop", state, REPO)
    found.commit(FILES, "the shop")
    return found


def deployed(
    state: GitHubState, sha: str, service: str, *states: str, env: str = "production"
) -> int:
    moments = [(s, f"2026-01-02T00:00:{i:02d}Z") for i, s in enumerate(states)]
    payload = {
        "image": f"ghcr.io/acme/shop/{service}@sha256:{'0' * 64}",
        "tool": "cdgen",
        "service": service,
    }
    return state.add_deployment(REPO, sha, env, moments, payload=payload)


def changes(
    tmp_path: Path,
    history: GitHistory,
    api: GitHubApi | None,
    event: str = "push",
    payload: dict[str, Any] | None = None,
    services: Any = None,
    **more: str,
) -> Step:
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(payload or {"before": history.shas[0]}), encoding="utf-8")
    output, summary = tmp_path / "output", tmp_path / "summary"
    for path in (output, summary):
        path.write_text("", encoding="utf-8")
    environ = {
        "PATH": "/usr/bin:/bin",
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(event_file),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_WORKSPACE": str(history.root),
        "CDGEN_MODE": "changes",
        "CDGEN_ENVIRONMENT": "production",
        "CDGEN_SERVICES": json.dumps(SERVICES if services is None else services),
        **({"GITHUB_API_URL": api.url, "CDGEN_GITHUB_TOKEN": TOKEN} if api else {}),
        **more,
    }
    stream = io.StringIO()
    code = run([], environ, stream)
    text = output.read_text(encoding="utf-8")
    outputs = {k: v for line in text.splitlines() for k, _, v in [line.partition("=")]}
    if "<<" in text:
        outputs = parse_outputs(text)
    return Step(code, stream.getvalue(), outputs, summary.read_text(encoding="utf-8"))


def test_a_first_run_changes_every_service(
    tmp_path: Path, history: GitHistory, api: GitHubApi
) -> None:
    step = changes(tmp_path, history, api)
    assert step.code == 0
    assert step.changed == ["cart", "catalog", "web"]
    assert step.outputs["any"] == "true"
    assert "no successful deploy recorded" in step.summary


def test_only_the_services_whose_paths_changed_since_their_deploy(
    tmp_path: Path, history: GitHistory, state: GitHubState, api: GitHubApi
) -> None:
    base = history.shas[0]
    for service in ("cart", "catalog", "web"):
        deployed(state, base, service, "in_progress", "success")
    history.commit({"src/cart/main.go": "package main // v2\n", "README.md": "docs\n"})
    step = changes(tmp_path, history, api)
    assert step.changed == ["cart"]
    matrix = json.loads(step.outputs["matrix"])
    assert matrix == [{"service": "cart", "context": "src/cart", "test": "go test ./..."}]
    assert f"src/cart/main.go changed since {base[:12]}" in step.summary
    assert f"unchanged since {base[:12]}" in step.summary


def test_nothing_changed_gives_an_empty_matrix(
    tmp_path: Path, history: GitHistory, state: GitHubState, api: GitHubApi
) -> None:
    for service in ("cart", "catalog", "web"):
        deployed(state, history.shas[0], service, "in_progress", "success")
    history.commit({"README.md": "only the docs\n"})
    step = changes(tmp_path, history, api)
    assert (step.changed, step.outputs["matrix"], step.outputs["any"]) == ([], "[]", "false")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"libs/db/db.go": "package db // v2\n"}, ["catalog"]),  # libs/**/*.go
        ({"libs/db/README.md": "x\n"}, []),  # not a .go file
        ({"libs/deep/er/x.go": "package x\n"}, ["catalog"]),  # ** spans folders
        ({"src/web/package.json": '{"a": 1}\n'}, ["web"]),  # src/web/*.json
        ({"src/web/notes.txt": "x\n"}, []),
        ({"src/web/app/deep/x.js": "x\n"}, ["web"]),  # a folder covers what is under it
        ({"src/cartography/x.go": "x\n"}, []),  # src/cart is a folder, not a prefix
        ({"src/cart/main.go": None}, ["cart"]),  # a deleted file is a change
        # A file moved from one service to another changes both (no rename detection).
        ({"src/cart/main.go": None, "src/web/app/main.go": "package main\n"}, ["cart", "web"]),
    ],
)
def test_paths_as_folders_and_globs(
    tmp_path: Path,
    history: GitHistory,
    state: GitHubState,
    api: GitHubApi,
    files: dict[str, str | None],
    expected: list[str],
) -> None:
    for service in ("cart", "catalog", "web"):
        deployed(state, history.shas[0], service, "in_progress", "success")
    history.commit(files)
    assert changes(tmp_path, history, api).changed == expected


def test_each_service_against_its_own_last_deploy(
    tmp_path: Path, history: GitHistory, state: GitHubState, api: GitHubApi
) -> None:
    """cart was deployed before catalog's change, catalog after it: a later run changes
    only what each has not shipped."""
    first = history.shas[0]
    catalog_change = history.commit({"src/catalog/main.go": "package main // v2\n"})
    deployed(state, first, "cart", "in_progress", "success")
    deployed(state, catalog_change, "catalog", "in_progress", "success")
    deployed(state, first, "web", "in_progress", "success")
    history.commit({"README.md": "docs\n"})
    assert changes(tmp_path, history, api).changed == []
    history.commit({"src/catalog/main.go": "package main // v3\n"})
    assert changes(tmp_path, history, api).changed == ["catalog"]


def test_a_failed_or_unfinished_deploy_does_not_count(
    tmp_path: Path, history: GitHistory, state: GitHubState, api: GitHubApi
) -> None:
    first = history.shas[0]
    for service in ("cart", "catalog", "web"):
        deployed(state, first, service, "in_progress", "success")
    change = history.commit({"src/cart/main.go": "package main // v2\n"})
    deployed(state, change, "cart", "in_progress", "failure")  # rolled back
    deployed(state, change, "catalog", "in_progress")  # still running
    deployed(state, change, "web", "in_progress", "success", "inactive")  # replaced later
    history.commit({"README.md": "docs\n"})
    step = changes(tmp_path, history, api)
    # cart's change never went live: it is still a change; web's newer success counts.
    assert step.changed == ["cart"]


def test_records_of_other_environments_tasks_and_tools_do_not_count(
    tmp_path: Path, history: GitHistory, state: GitHubState, api: GitHubApi
) -> None:
    first = history.shas[0]
    deployed(state, first, "cart", "in_progress", "success", env="staging")
    state.add_deployment(
        REPO,
        first,
        "production",
        [("success", "2026-01-02T00:00:00Z")],
        payload={"image": "x", "service": "catalog"},
        task="rollback",
    )
    state.add_deployment(
        REPO, first, "production", [("success", "2026-01-02T00:00:00Z")], payload="not json"
    )
    deployed(state, first, "web", "in_progress", "success")
    assert changes(tmp_path, history, api).changed == ["cart", "catalog"]


def test_a_payload_handed_back_as_json_text_is_read(
    tmp_path: Path, history: GitHistory, state: GitHubState, api: GitHubApi
) -> None:
    first = history.shas[0]
    for service in ("cart", "catalog", "web"):
        state.add_deployment(
            REPO,
            first,
            "production",
            [("success", "2026-01-02T00:00:00Z")],
            payload=json.dumps({"service": service}),
        )
    assert changes(tmp_path, history, api).changed == []


def test_a_deployed_commit_this_clone_lacks_counts_as_changed(
    tmp_path: Path, history: GitHistory, state: GitHubState, api: GitHubApi
) -> None:
    """A force-push rewrote the history: the commit live in production is gone."""
    other = GitHistory(tmp_path / "other", state, REPO)
    lost = other.commit({"x": "y\n"}, "a commit of a rewritten history")
    deployed(state, lost, "cart", "in_progress", "success")
    for service in ("catalog", "web"):
        deployed(state, history.shas[0], service, "in_progress", "success")
    step = changes(tmp_path, history, api)
    assert step.changed == ["cart"]
    assert "is not in this clone's history" in step.summary
    # Said as a warning in the run's annotations, not only in the log and the summary.
    assert (
        f"::warning title=Deployment records::cart: its last successful deploy was of "
        f"{lost[:12]}, which is not in this clone's history (a force-push?): it counts as "
        "changed" in step.log
    )


def test_records_beyond_the_first_page_are_read(
    tmp_path: Path, history: GitHistory, state: GitHubState, api: GitHubApi
) -> None:
    first = history.shas[0]
    deployed(state, first, "web", "in_progress", "success")  # the oldest record
    for _ in range(150):
        deployed(state, first, "cart", "in_progress", "success")
    deployed(state, first, "catalog", "in_progress", "success")
    step = changes(tmp_path, history, api)
    assert step.changed == []
    # Two pages of records; the statuses of one record per service, no more.
    assert api.counts["GET /repos/{owner}/{repo}/deployments"] == 2
    assert api.counts["GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses"] == 3
    assert "5 request(s) to GitHub's API" in step.log


@pytest.mark.parametrize(
    ("event", "payload", "why"),
    [
        ("push", {"before": "0" * 40}, "the push created the branch"),
        ("workflow_dispatch", {}, "a workflow_dispatch run builds every service"),
        ("schedule", {}, "a schedule run builds every service"),
    ],
)
def test_a_new_branch_or_a_manual_run_changes_every_service(
    tmp_path: Path,
    history: GitHistory,
    state: GitHubState,
    api: GitHubApi,
    event: str,
    payload: dict[str, Any],
    why: str,
) -> None:
    for service in ("cart", "catalog", "web"):
        deployed(state, history.shas[0], service, "in_progress", "success")
    step = changes(tmp_path, history, api, event=event, payload=payload)
    assert step.changed == ["cart", "catalog", "web"]
    assert why in step.summary
    assert sum(api.counts.values()) == 0


def test_a_pull_request_changes_what_it_touches(tmp_path: Path, history: GitHistory) -> None:
    base = history.shas[0]
    history.commit({"src/web/app/index.js": "y\n", "README.md": "docs\n"})
    event = {"pull_request": {"base": {"sha": base}, "number": 7}}
    step = changes(tmp_path, history, None, event="pull_request", payload=event)
    assert (step.code, step.changed) == (0, ["web"])


@pytest.mark.parametrize("fault", ["server error", "rate limit"])
def test_records_that_cannot_be_read_change_every_service(
    tmp_path: Path, history: GitHistory, state: GitHubState, api: GitHubApi, fault: str
) -> None:
    for service in ("cart", "catalog", "web"):
        deployed(state, history.shas[0], service, "in_progress", "success")
    if fault == "server error":
        api.fail(times=None, status=503)
    else:
        api.rate_limit("primary", times=None)
    step = changes(tmp_path, history, api)
    assert step.code == 0
    assert step.changed == ["cart", "catalog", "web"]
    assert "::warning title=Deployment records::cannot read the deployment records" in step.log
    assert ("HTTP 503" if fault == "server error" else "HTTP 403") in step.log
    # A server error is asked again (three times in all); a refusal is not.
    assert sum(api.counts.values()) == (3 if fault == "server error" else 1)
    assert TOKEN not in step.log


def test_a_wrong_token_changes_every_service_and_says_so(
    tmp_path: Path, history: GitHistory, api: GitHubApi
) -> None:
    step = changes(tmp_path, history, api, CDGEN_GITHUB_TOKEN="ghs_wrong")
    assert step.changed == ["cart", "catalog", "web"]
    assert "HTTP 401" in step.log


@pytest.mark.parametrize(
    ("services", "problem"),
    [
        ("not json", "services: not JSON"),
        ([], "services: must be a non-empty JSON list of objects"),
        ([{"service": "Cart", "paths": ["x"]}], "services[0]: `service` is not a service name"),
        ([{"service": "cart"}], "services[0]: `paths` is not a list of paths"),
        ([{"service": "cart", "paths": ["a"]}] * 2, "services[1]: 'cart' is listed twice"),
    ],
)
def test_bad_services_input_is_refused(
    tmp_path: Path, history: GitHistory, api: GitHubApi, services: Any, problem: str
) -> None:
    given = services if isinstance(services, str) else json.dumps(services)
    step = changes(tmp_path, history, api, CDGEN_SERVICES=given)
    assert step.code == 2
    assert problem in step.log
    assert step.outputs == {"": ""} or step.outputs == {}


def test_the_token_goes_only_to_an_https_or_loopback_api(
    tmp_path: Path, history: GitHistory
) -> None:
    step = changes(
        tmp_path,
        history,
        None,
        GITHUB_API_URL="http://api.example.com",
        CDGEN_GITHUB_TOKEN=TOKEN,
    )
    assert step.code == 2
    assert "must use https" in step.log


WORKFLOW = ".github/workflows/cd.yml"
WORKFLOW_REF = f"{REPO}/{WORKFLOW}@refs/heads/main"


def workflow_text(rows: list[dict[str, Any]]) -> str:
    """The changes step's table as the generated workflow writes it (services_model.py),
    and a deploy job's table whose rows name the services without paths."""
    table = ",\n".join("            " + json.dumps(row, separators=(", ", ": ")) for row in rows)
    targets = ",\n".join(f'          {{"service": "{row["service"]}"}}' for row in rows)
    return f"jobs:\n  changes:\n    services: |-\n      [\n{table}\n      ]\n{targets}\n"


def with_changed(name: str, **changes: Any) -> list[dict[str, Any]]:
    return [{**row, **changes} if row["service"] == name else row for row in SERVICES]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (with_changed("cart", test="go test -race ./..."), ["cart"]),
        (with_changed("catalog", paths=["src/catalog"]), []),  # paths decide, build nothing
        (SERVICES, []),  # the workflow changed elsewhere (a comment, another job)
    ],
)
def test_build_settings_changed_in_the_workflow_change_their_service(
    tmp_path: Path,
    history: GitHistory,
    state: GitHubState,
    api: GitHubApi,
    rows: list[dict[str, Any]],
    expected: list[str],
) -> None:
    """A commit that only edits cdgen.yml (and so the workflow) changes no file under any
    service's paths: a service whose build settings differ there is built again."""
    base = history.commit({WORKFLOW: workflow_text(SERVICES)}, "the pipeline")
    for service in ("cart", "catalog", "web"):
        deployed(state, base, service, "in_progress", "success")
    history.commit({WORKFLOW: workflow_text(rows) + "# regenerated\n"})
    step = changes(tmp_path, history, api, services=rows, GITHUB_WORKFLOW_REF=WORKFLOW_REF)
    assert step.changed == expected
    if expected == ["cart"]:
        assert f"its build settings in cdgen.yml changed since {base[:12]}" in step.summary


def test_settings_that_cannot_be_read_from_before_count_as_changed(
    tmp_path: Path, history: GitHistory, state: GitHubState, api: GitHubApi
) -> None:
    """The workflow of the deployed commit has no row for web (written by another name, or
    by hand): what web was built with then is unknown."""
    older = [row for row in SERVICES if row["service"] != "web"]
    base = history.commit({WORKFLOW: workflow_text(older)}, "the pipeline")
    for service in ("cart", "catalog", "web"):
        deployed(state, base, service, "in_progress", "success")
    history.commit({WORKFLOW: workflow_text(SERVICES)})
    step = changes(tmp_path, history, api, GITHUB_WORKFLOW_REF=WORKFLOW_REF)
    assert step.changed == ["web"]
    assert "its settings there before cannot be read" in step.summary


def test_without_the_workflow_file_settings_are_not_compared(
    tmp_path: Path, history: GitHistory, state: GitHubState, api: GitHubApi
) -> None:
    """Outside GitHub (no GITHUB_WORKFLOW_REF) only the paths count, as before."""
    base = history.commit({WORKFLOW: workflow_text(SERVICES)}, "the pipeline")
    for service in ("cart", "catalog", "web"):
        deployed(state, base, service, "in_progress", "success")
    rows = with_changed("cart", test="go vet ./...")
    history.commit({WORKFLOW: workflow_text(rows)})
    assert changes(tmp_path, history, api, services=rows).changed == []


def test_a_pull_request_that_edits_build_settings_builds_that_service(
    tmp_path: Path, history: GitHistory
) -> None:
    ci = ".github/workflows/ci.yml"
    base = history.commit({ci: workflow_text(SERVICES)}, "the pipeline")
    rows = with_changed("catalog", dockerfile="src/catalog/Dockerfile.prod")
    history.commit({ci: workflow_text(rows), "cdgen.yml": "version: 1\n"})
    event = {"pull_request": {"base": {"sha": base}, "number": 8}}
    step = changes(
        tmp_path,
        history,
        None,
        event="pull_request",
        payload=event,
        services=rows,
        GITHUB_WORKFLOW_REF=f"{REPO}/{ci}@refs/pull/8/merge",
    )
    assert (step.code, step.changed) == (0, ["catalog"])
    assert "its build settings in cdgen.yml changed" in step.summary


def test_a_submodule_bump_changes_the_service_whose_folder_glob_holds_it(
    tmp_path: Path, history: GitHistory, state: GitHubState, api: GitHubApi
) -> None:
    """A submodule is one entry (a commit, not files) at its folder's own path: `libs/**`
    covers it as `libs` does."""
    services = [{"service": "proto", "paths": ["libs/proto/**"]}, *SERVICES]
    (history.root / "libs/proto").mkdir(parents=True)  # as a clone leaves a submodule: empty
    history.git("update-index", "--add", "--cacheinfo", f"160000,{history.shas[0]},libs/proto")
    first = history.commit({"README.md": "with a submodule\n"})
    for service in ("proto", "cart", "catalog", "web"):
        deployed(state, first, service, "in_progress", "success")
    history.git("update-index", "--cacheinfo", f"160000,{first},libs/proto")
    history.commit({"README.md": "the submodule bumped\n"})
    assert changes(tmp_path, history, api, services=services).changed == ["proto"]


def test_a_changed_path_with_a_line_break_stays_in_its_row() -> None:
    summary = render_summary([Verdict("cart", True, "src/cart/a\n| web | no | forged |")])
    rows = [line for line in summary.splitlines() if line.startswith("| cart")]
    assert rows == ["| cart | yes | src/cart/a \\| web \\| no \\| forged \\| |"]
    assert "| web |" not in summary
