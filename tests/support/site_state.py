"""The shared state of a site lab: what the Vercel and Cloudflare Pages stand-ins hold.

One JSON file, read and written under a lock by the stand-in CLI (``standin_npx.py``, a
program on PATH), the Cloudflare API fake and the server of the live sites, so that a deploy
made by one is what the others see. Deployments keep the files they were made from, and the
site server answers with those files: a built site without ``health`` fails its smoke test.

Cloudflare deployments and projects have the shapes of Cloudflare's API (v4: the
``Deployment`` and ``Project`` models of https://developers.cloudflare.com/api/resources/pages/).
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

VERCEL_TOKEN = "vercel-t0ken-4b1f"
VERCEL_ORG = "team_Acme12345"
VERCEL_PROJECT = "prj_Web12345"
CLOUDFLARE_TOKEN = "cf-t0ken-8e2a"
CLOUDFLARE_ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
CLOUDFLARE_PROJECT = "acme-web"
NOW = "2026-01-01T00:00:00.000000Z"
MAX_FILE = 4096


def default_state(pins: dict[str, str], production_host: str) -> dict[str, Any]:
    """A Vercel project whose production serves ``v1`` at ``production_host``, and a
    Cloudflare Pages project whose production branch ``main`` serves ``v1``."""
    first = vercel_deployment("web-v1", {"/health": "ok v1"})
    cloudflare = cloudflare_deployment("main", "v1", {"/health": "ok v1"})
    return {
        "pins": pins,  # package -> the one version the workflows may run
        "calls": [],
        "vercel": {
            "production_host": production_host,
            "deployments": {first["url"]: first},
            "production": first["url"],
            "fail": [],  # commands made to fail ("promote", "rollback", "deploy", "inspect")
        },
        "cloudflare": {
            "production_branch": "main",
            "deployments": [cloudflare],  # newest first, as the API lists them
            "canonical": cloudflare["id"],
            "fail": [],  # "rollback", "upload"
            "requests": [],
        },
    }


def vercel_deployment(name: str, files: dict[str, str]) -> dict[str, Any]:
    """What ``vercel inspect --format=json`` shows of a deployment, and its files."""
    return {
        "id": f"dpl_{name.replace('-', '')}",
        "name": "web",
        "url": f"{name}.vercel.app",
        "target": "production",
        "readyState": "READY",
        "createdAt": 1767225600000,
        "files": files,
    }


def cloudflare_deployment(
    branch: str, commit: str, files: dict[str, str], *, production: bool = True
) -> dict[str, Any]:
    ident = str(uuid.uuid4())
    short = ident[:8]
    stage = {"name": "deploy", "started_on": NOW, "ended_on": NOW, "status": "success"}
    return {
        "id": ident,
        "short_id": short,
        "project_id": "7b162ea7-7367-4d67-bcde-1160995d5",
        "project_name": CLOUDFLARE_PROJECT,
        "environment": "production" if production else "preview",
        "url": f"https://{short}.{CLOUDFLARE_PROJECT}.pages.dev",
        "created_on": NOW,
        "modified_on": NOW,
        "aliases": None if production else [f"https://{branch}.{CLOUDFLARE_PROJECT}.pages.dev"],
        "latest_stage": stage,
        "deployment_trigger": {
            "type": "ad_hoc",
            "metadata": {
                "branch": branch,
                "commit_hash": commit,
                "commit_message": "",
                "commit_dirty": False,
            },
        },
        "stages": [
            {"name": name, "started_on": NOW, "ended_on": NOW, "status": "success"}
            for name in ("queued", "initialize", "clone_repo", "build", "deploy")
        ],
        "build_config": {
            "build_caching": False,
            "build_command": "",
            "destination_dir": "",
            "root_dir": "",
            "web_analytics_tag": None,
            "web_analytics_token": None,
        },
        "env_vars": {},
        "is_skipped": False,
        "uses_functions": False,
        "source": None,
        "files": files,  # not Cloudflare's: what the site server answers with
    }


def public(deployment: dict[str, Any]) -> dict[str, Any]:
    """A deployment as the API shows it (without the files the lab keeps)."""
    return {key: value for key, value in deployment.items() if key != "files"}


def read_files(directory: Path) -> dict[str, str]:
    """The files of a built site, as ``/path`` -> text (small text files only)."""
    found: dict[str, str] = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.stat().st_size <= MAX_FILE:
            found["/" + path.relative_to(directory).as_posix()] = path.read_text(errors="replace")
    return found


class SiteState:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        with self.path.open(encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            state: dict[str, Any] = json.load(handle)
        return state

    @contextmanager
    def change(self) -> Iterator[dict[str, Any]]:
        """The state, written back when the block ends (under one exclusive lock)."""
        with self.path.open("r+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            state: dict[str, Any] = json.load(handle)
            yield state
            handle.seek(0)
            handle.truncate()
            json.dump(state, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())

    def write(self, state: dict[str, Any]) -> None:
        self.path.write_text(json.dumps(state, indent=1), encoding="utf-8")


def live_cloudflare(state: dict[str, Any], branch: str) -> dict[str, Any] | None:
    """What the branch serves: production's canonical deployment, or a preview's newest."""
    cloudflare = state["cloudflare"]
    deployments: list[dict[str, Any]] = cloudflare["deployments"]
    if branch == cloudflare["production_branch"]:
        return next((d for d in deployments if d["id"] == cloudflare["canonical"]), None)
    for found in deployments:
        if found["deployment_trigger"]["metadata"]["branch"] == branch:
            return found
    return None
