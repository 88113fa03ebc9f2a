"""Running workflows under act (host mode) with the action mapped to a clean checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.sandbox import SandboxDir, default_state, write_sandbox
from support.smoke_server import SmokeServer, start_server

ROOT = Path(__file__).resolve().parents[2]
ACT = Path(sys.executable).parent / "act"
ACTION = "cdgen-dev/cdgen"
ACTION_REF = "v1"
GIT = ["git", "-c", "user.name=cdgen tests", "-c", "user.email=tests@cdgen.invalid"]
GIT += ["-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"]


@dataclass
class ActRun:
    code: int
    log: str

    def job_failed(self, job: str) -> bool:
        return any(
            line.startswith(f"[{job}] ") and "Job failed" in line for line in self.log.splitlines()
        )

    def summary(self, job: str) -> str:
        """The job summary act read from the action's GITHUB_STEP_SUMMARY file (act logs
        it as ``[job]   ⚙  Summary - <content>``, continued on unprefixed lines)."""
        marker = f"[{job}]   ⚙  Summary - "
        lines = self.log.splitlines()
        for index, line in enumerate(lines):
            if line.startswith(marker):
                body = [line.removeprefix(marker)]
                for following in lines[index + 1 :]:
                    if following.startswith("["):
                        break
                    body.append(following)
                return "\n".join(body) + "\n"
        return ""

    def job_succeeded(self, job: str) -> bool:
        return any(
            line.startswith(f"[{job}] ") and "Job succeeded" in line
            for line in self.log.splitlines()
        )


@pytest.fixture(scope="session")
def action_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a checkout of this repository holds: tracked and new files, nothing ignored
    (act copies the mapped folder for each use; .venv would make that slow)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    checkout = tmp_path_factory.mktemp("action-checkout")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            target = checkout / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return checkout


def init_repo(directory: Path, files: dict[str, str]) -> str:
    """A git repository holding ``files``, one commit; returns the commit SHA."""
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    subprocess.run([*GIT, "init", "-q"], cwd=directory, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=directory, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "test"], cwd=directory, check=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, check=True
    ).stdout.strip()


def run_act(
    repo: Path,
    checkout: Path,
    *,
    event: dict[str, Any],
    env: dict[str, str] | None = None,
    secrets: tuple[str, ...] = (),
    extra: list[str] | None = None,
    timeout: float = 300,
    event_name: str = "push",
) -> ActRun:
    work = repo.parent / f"{repo.name}-act"
    work.mkdir(exist_ok=True)
    (work / "event.json").write_text(json.dumps(event), encoding="utf-8")
    (work / "home").mkdir(exist_ok=True)
    command = [str(ACT), event_name, "--eventpath", str(work / "event.json")]
    command += ["-P", "ubuntu-latest=-self-hosted", "--action-offline-mode"]
    command += ["--local-repository", f"{ACTION}@{ACTION_REF}={checkout}"]
    command += ["--action-cache-path", str(work / "cache"), "--no-cache-server"]
    command += ["--log-prefix-job-id", "--env-file", "/dev/null", "--secret-file", "/dev/null"]
    for secret in secrets:
        command += ["--secret", secret]
    command += extra or []
    proxies = {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}
    # A runner has none of the tests' settings (the build stamp override among them).
    dropped = proxies | {"CDGEN_BUILD_STAMP"}
    environ = {key: value for key, value in os.environ.items() if key not in dropped}
    environ.update({"HOME": str(work / "home"), **(env or {})})
    done = subprocess.run(
        command, cwd=repo, env=environ, capture_output=True, text=True, timeout=timeout, check=False
    )
    return ActRun(done.returncode, done.stdout + done.stderr)


def for_act(workflow: dict[str, Any]) -> dict[str, Any]:
    """The workflow as act 0.2.89 accepts it: its schema predates `environment.deployment`
    (nektos/act#6086) and refuses the whole file. The key only tells GitHub not to make a
    deployment record of its own, which act never makes anyway."""
    jobs = {}
    for job_id, job in workflow["jobs"].items():
        environment = job.get("environment")
        if isinstance(environment, dict):
            kept = {k: v for k, v in environment.items() if k != "deployment"}
            jobs[job_id] = {**job, "environment": kept}
        else:
            jobs[job_id] = job
    return {**workflow, "jobs": jobs}


@dataclass
class Lab(SandboxDir):
    """A kubectl simulator and a smoke server shared by every job of a workflow."""

    server: SmokeServer

    def update(self, change: Callable[[dict[str, Any]], None]) -> None:
        state = self.state()
        change(state)
        self.save(state)

    def smoke_url(self, namespace: str) -> str:
        return f"{self.server.url}/{namespace}/api"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    directory = tmp_path_factory.mktemp("lab")
    bin_dir = write_sandbox(directory, default_state([]))
    server = start_server(str(directory / "state.json"))
    yield Lab(directory, bin_dir, server)
    server.shutdown()
    server.server_close()
