"""Cloudflare Pages: upload the built files to a branch with the pinned wrangler, read and
roll back the production deployment through Cloudflare's API.

A deploy to the project's production branch makes a production deployment, which serves the
project's domains at once; any other branch makes a preview deployment, served at the
branch's alias. Cloudflare rolls back production deployments only, so only they are undone.
The one wrangler command run (the tests' stand-in accepts exactly it, and ``--version``):
``pages deploy DIR --project-name=P --branch=B [--commit-hash=SHA] --commit-dirty=false``,
whose result is read from wrangler's structured output file (``WRANGLER_OUTPUT_FILE_PATH``,
the ``pages-deploy-detailed`` entry), not from its log.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any

from cdgen.deploy.site.clis import UPLOAD_SECONDS
from cdgen.deploy.site.cloudflare_api import CloudflareApi, api_url_problem
from cdgen.deploy.site.npx import Npx
from cdgen.deploy.site.provider import Deployment, ProviderError

INSTALL_SECONDS = 300
READ_SECONDS = 30
URGENT_SECONDS = 3.0


class CloudflarePages:
    def __init__(
        self, npx: Npx, api: CloudflareApi, directory: str, branch: str, temp: str | None
    ) -> None:
        self.npx = npx
        self.api = api
        self.directory = directory
        self.branch = branch
        self.temp = temp
        self.production_branch = ""
        self.switchable = False  # known once the project is read

    def prepare(self) -> None:
        """Read the project (its production branch decides what this deploy is), and make
        sure the files and the CLI are there before anything changes."""
        problem = api_url_problem(self.api.base)
        if problem:  # the token must not go there
            raise ProviderError(f"CLOUDFLARE_API_BASE_URL {problem}")
        project = self.api.read_project(READ_SECONDS)
        self.production_branch = str(project.get("production_branch") or "")
        self.switchable = self.branch == self.production_branch
        if not self.directory:
            return  # nothing to upload: a rollback or a check, through the API only
        if not os.path.isdir(self.directory) or not os.listdir(self.directory):
            raise ProviderError(f"{self.directory} is not a directory of built files")
        result = self.npx.run(["--version"], INSTALL_SECONDS)
        if not result.ok:
            raise ProviderError(
                f"cannot run {self.npx.spec} (exit {result.returncode})", result.output
            )

    def live(self, *, urgent: bool = False) -> Deployment | None:
        timeout = URGENT_SECONDS if urgent else READ_SECONDS
        if self.switchable:
            found = self.api.read_project(timeout).get("canonical_deployment")
            return _deployment(found) if isinstance(found, dict) else None
        for item in self.api.previews(timeout):
            trigger = item.get("deployment_trigger") or {}
            metadata = trigger.get("metadata") if isinstance(trigger, dict) else None
            if isinstance(metadata, dict) and metadata.get("branch") == self.branch:
                return _deployment(item)
        return None

    def deploy(self, commit: str) -> Deployment:
        args = ["pages", "deploy", self.directory, f"--project-name={self.api.project_name}"]
        args.append(f"--branch={self.branch}")
        if commit:
            args.append(f"--commit-hash={commit}")
        args.append("--commit-dirty=false")
        folder = tempfile.mkdtemp(prefix="cdgen-wrangler-", dir=self.temp)
        output = os.path.join(folder, "output.json")
        try:
            result = self.npx.run(
                args, UPLOAD_SECONDS, extra_env={"WRANGLER_OUTPUT_FILE_PATH": output}
            )
            entry = _detailed_entry(output)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if not result.ok or entry is None:
            problem = "printed no deployment" if result.ok else f"exit {result.returncode}"
            raise ProviderError(f"wrangler pages deploy failed ({problem})", result.output)
        return Deployment(str(entry["deployment_id"]), str(entry.get("url") or ""))

    def promote(self, ident: str) -> None:
        raise ProviderError(
            "Cloudflare Pages cannot promote an upload: each environment uploads the built files"
        )

    def rollback(self, ident: str, *, urgent: bool = False) -> None:
        self.api.rollback(ident, URGENT_SECONDS if urgent else READ_SECONDS)

    def undo_rollback(self, ident: str, *, urgent: bool = False) -> None:
        # Any successful production deployment is a rollback target, newer ones too.
        self.api.rollback(ident, URGENT_SECONDS if urgent else READ_SECONDS)


def _deployment(item: dict[str, Any]) -> Deployment | None:
    ident = item.get("id")
    return Deployment(ident, str(item.get("url") or "")) if isinstance(ident, str) else None


def _detailed_entry(path: str) -> dict[str, Any] | None:
    """The ``pages-deploy-detailed`` entry of wrangler's ND-JSON output file."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read(1 << 20).splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        detailed = isinstance(entry, dict) and entry.get("type") == "pages-deploy-detailed"
        if detailed and isinstance(entry.get("deployment_id"), str):
            return dict(entry)
    return None
