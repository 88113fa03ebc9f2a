"""Running a static site's generated cd.yml, unchanged, under act: the pinned CLIs as the
strict npx stand-in on PATH, Cloudflare's API fake and the live sites on 127.0.0.1, the
third-party actions as local stand-ins that check their inputs, the deployment records in
the GitHub API double."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.site_lab import SiteLab
from support.site_state import CLOUDFLARE_TOKEN, VERCEL_TOKEN

from cdgen.generate import Target, render_target
from cdgen.pins import pin

from .conftest import ActRun, for_act, init_repo, run_act

REPO = "acme/web"
GITHUB_TOKEN = "ghs_site_act_7c2f"
STANDINS = Path(__file__).resolve().parents[1] / "support" / "standins"
ACTIONS = ("actions/setup-node", "actions/upload-artifact", "actions/download-artifact")


def render_cd(directory: Path, descriptor: str) -> dict[str, Any]:
    """cd.yml as cdgen renders it from `descriptor`, in the form act reads."""
    directory.mkdir()
    config = directory / "cdgen.yml"
    config.write_text(descriptor, encoding="utf-8")
    files = render_target(Target(config, directory)).files
    return for_act(YAML(typ="safe").load(files[".github/workflows/cd.yml"]))


def github_double() -> Iterator[GitHubApi]:
    with GitHubApi(GitHubState(), tokens=[GITHUB_TOKEN]) as api:
        yield api


def run_pipeline(
    lab: SiteLab,
    checkout: Path,
    tmp: Path,
    workflow: dict[str, Any],
    api: GitHubApi,
    site: dict[str, str],
    job_env: dict[str, str] | None = None,
) -> tuple[ActRun, str]:
    """The pipeline of a repository holding `site` (its files), pushed to main."""
    repo = tmp / "repo"
    repo.mkdir()
    files = {".github/workflows/cd.yml": json.dumps(workflow, indent=1), **site}
    sha = init_repo(repo, files)
    # act names the repository (GITHUB_REPOSITORY) after the origin remote.
    origin = ["git", "remote", "add", "origin", f"https://github.com/{REPO}.git"]
    subprocess.run(origin, cwd=repo, check=True)
    api.state.add_commit(REPO, "2026-01-01T00:00:00Z", sha=sha, branch="main")
    artifacts = tmp / "artifacts"
    artifacts.mkdir()
    extra = ["--env", f"GITHUB_API_URL={api.url}"]
    for name, value in (job_env or {}).items():
        extra += ["--env", f"{name}={value}"]
    for name in ACTIONS:
        extra += ["--local-repository", f"{pin(name).uses}={STANDINS / name.split('/')[1]}"]
    secrets = (
        f"VERCEL_TOKEN={VERCEL_TOKEN}",
        f"CLOUDFLARE_API_TOKEN={CLOUDFLARE_TOKEN}",
        f"GITHUB_TOKEN={GITHUB_TOKEN}",
    )
    run = run_act(
        repo,
        checkout,
        event={"ref": "refs/heads/main", "head_commit": {"timestamp": "2026-01-01T00:00:00Z"}},
        env={**lab.env(), "STANDIN_ARTIFACTS": str(artifacts)},
        secrets=secrets,
        extra=extra,
        timeout=420,
    )
    return run, sha


def records(api: GitHubApi) -> dict[str, list[tuple[str, Any, list[str]]]]:
    """Each environment's deployment records: (commit, payload image, states), oldest first."""
    found: dict[str, list[tuple[str, Any, list[str]]]] = {}
    for deployment in sorted(api.state.repos[REPO].deployments.values(), key=lambda d: d.id):
        states = [status.state for status in deployment.statuses]
        entry = (deployment.sha, deployment.payload.get("image"), states)
        found.setdefault(deployment.environment, []).append(entry)
    return found
