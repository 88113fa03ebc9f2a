"""`cdgen metrics` on the command line, in-process against the GitHub API double: defaults,
formats, exit codes and messages."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from support.deploy_history import REPO, SINCE, UNTIL, Seeder
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.http_json import TOKEN

from cdgen.cli import main
from cdgen.errors import UsageError
from cdgen.metrics.query import resolve_window

LIST = "GET /repos/{owner}/{repo}/deployments"


@pytest.fixture
def state() -> GitHubState:
    seeded = GitHubState()
    seed = Seeder(seeded)
    c0, c1, c2 = seed.commits(3, first=-30)
    seed.success(c0, -10)
    seed.failure(c1, 5)
    seed.success(c2, 6)
    Seeder(seeded, environment="live").success(c2, 7)
    return seeded


@pytest.fixture
def api(state: GitHubState) -> Iterator[GitHubApi]:
    with GitHubApi(state) as server:
        yield server


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, a token in GH_TOKEN, and no `gh`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


def run(api: GitHubApi, *args: str) -> int:
    window = ["--since", SINCE, "--until", UNTIL]
    return main(["metrics", "--api-url", api.url, *window, *args])


def git_repo(path: Path, remote: str) -> None:
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote], check=True)


def test_json_to_stdout(api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(api, "--repo", REPO, "--format", "json") == 0
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert (data["repository"], data["environment"]) == (REPO, "production")
    assert data["deployments"] == {"total": 2, "successful": 1, "failed": 1}
    assert out.err == ""
    assert list(cwd.iterdir()) == []  # nothing written


def test_the_table_is_the_default(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(api, "--repo", REPO) == 0
    out = capsys.readouterr().out
    assert out.startswith("DORA metrics for acme/api, environment production\n")
    assert "Change failure rate              50.0%: 1 of 2 deployments failed" in out
    assert "Accelerate State of DevOps Report 2023" in out


def test_markdown_for_a_job_summary(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(api, "--repo", REPO, "--format", "markdown", "--environment", "live") == 0
    out = capsys.readouterr().out
    assert out.startswith("## DORA metrics: acme/api, live\n")
    assert "| Change failure rate | 0.0%: 0 of 1 deployment failed | Elite |" in out


def test_the_repository_defaults_to_the_git_remote(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git_repo(cwd, "git@github.com:acme/api.git")
    assert run(api, "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["repository"] == REPO
    assert {call.path for call in api.calls(LIST)} == {"/repos/acme/api/deployments"}


def test_an_enterprise_remote_needs_the_api_url(
    cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git_repo(cwd, "https://ghe.example.com/acme/api.git")
    assert main(["metrics"]) == 2
    assert "pass --api-url https://ghe.example.com/api/v3" in capsys.readouterr().err


def test_no_remote_and_no_repo_is_a_usage_error(
    cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["metrics"]) == 2
    assert "no git remote names a GitHub repository: pass --repo" in capsys.readouterr().err
    git_repo(cwd, "https://gitlab.com/acme/group/api.git")
    assert main(["metrics"]) == 2
    assert "the git remote 'https://gitlab.com/acme/group/api.git' is not a GitHub" in (
        capsys.readouterr().err
    )


def test_the_environment_defaults_to_the_descriptors_last(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cwd / "cdgen.yml").write_text(
        "version: 1\nname: api\nenvironments:\n  - name: staging\n  - name: live\n"
    )
    assert run(api, "--repo", REPO, "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["environment"] == "live"
    assert [call.query["environment"] for call in api.calls(LIST)] == [["live"]]


def test_a_descriptor_without_environments_names_the_place(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cwd / "cdgen.yml").write_text("version: 1\nname: api\nenvironments: []\n")
    assert run(api, "--repo", REPO) == 1
    assert capsys.readouterr().err.startswith("cdgen.yml:3:15: metrics: no environment name")
    assert run(api, "--repo", REPO, "--environment", "production") == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2026-10-01", "--until", "2026-10-01"], "--since 2026-10-01 must come before"),
        (["--since", "2026-10-02", "--until", "2026-10-01"], "must come before --until 2026-10-01"),
        (["--since", "2026-9-1"], "--since must be a date as YYYY-MM-DD (got '2026-9-1')"),
        (["--until", "2026-02-30"], "--until must be a date as YYYY-MM-DD"),
        (["--since", "20260901"], "--since must be a date"),
        (["--format", "xml"], "--format must be one of table, json, markdown (got 'xml')"),
        (["--repo", "acme"], "--repo must be OWNER/NAME (got 'acme')"),
        (["--repo", "acme/api/x"], "--repo must be OWNER/NAME"),
        (["--api-url", "http://api.example.com"], "--api-url must use https"),
        (["--api-url", "ftp://x"], "--api-url must be an https URL"),
        (["--api-url", "https://u:p@api.example.com"], "--api-url must be an https URL"),
        (["--environment", ""], "--environment must be an environment's name"),
        (["--bogus"], "No such option: --bogus"),
    ],
)
def test_usage_errors_exit_2(
    cwd: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["metrics", "--repo", REPO, *args]) == 2
    assert message in capsys.readouterr().err


def test_github_refusals_exit_1(
    api: GitHubApi, cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(api, "--repo", "acme/missing") == 1
    assert "was not found (404): check --repo and --api-url" in capsys.readouterr().err
    api.rate_limit("primary", times=None)
    assert run(api, "--repo", REPO) == 1
    assert "error: GitHub's API rate limit was hit" in capsys.readouterr().err
    api.clear_faults()
    monkeypatch.setenv("GH_TOKEN", "ghp_not_known_here")
    assert run(api, "--repo", REPO) == 1
    err = capsys.readouterr().err
    assert "GitHub refused the token from GH_TOKEN (401 Bad credentials)" in err
    assert "ghp_not_known_here" not in err


def test_no_token_exits_1(
    cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GH_TOKEN")
    monkeypatch.setenv("PATH", str(cwd / "no-gh-here"))
    assert main(["metrics", "--repo", REPO]) == 1
    assert "error: no GitHub token: set GH_TOKEN" in capsys.readouterr().err


def test_help_documents_the_switches(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", "--help"]) == 0
    out = capsys.readouterr().out
    for switch in ("--repo", "--environment", "--since", "--until", "--format", "--api-url"):
        assert switch in out
    assert main(["--help"]) == 0
    assert "  metrics " in capsys.readouterr().out


def test_the_window_defaults_to_the_30_days_before_today() -> None:
    today = date(2026, 10, 1)
    window = resolve_window(None, None, today)
    assert (window.since, window.until, window.days) == (date(2026, 9, 1), today, 30)
    assert resolve_window("2026-09-15", None, today).since == date(2026, 9, 15)
    assert resolve_window(None, "2026-03-01", today).since == date(2026, 1, 30)
    with pytest.raises(UsageError, match="--since 2026-10-05 must come before"):
        resolve_window("2026-10-05", None, today)
