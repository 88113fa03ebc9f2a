"""The bundled example service: its unit tests, and its e2e suite against the real server."""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hello-api"
VERSION = "0123456789abcdef0123456789abcdef01234567"
START_TIMEOUT = 10.0
LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is required on PATH for the example tests"
    return path


@pytest.fixture(scope="module")
def npm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment in which npm stays offline and writes only to a temporary cache."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"BASE_URL", "EXPECT_VERSION", "APP_VERSION", "NODE_OPTIONS", "PORT"}
        and not key.lower().startswith("npm_config_")
    }
    env.update(
        npm_config_cache=str(tmp_path_factory.mktemp("npm-cache")),
        npm_config_offline="true",
        npm_config_update_notifier="false",
        npm_config_fund="false",
        npm_config_audit="false",
    )
    return env


def npm(env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("npm"), *args],
        cwd=EXAMPLE,
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def read_port(process: subprocess.Popen[str]) -> int:
    """Wait for the server's "listening on" line and return the port it bound."""
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            line = process.stdout.readline()
            if not line:
                break
            match = LISTENING.search(line)
            if match:
                return int(match.group(1))
    raise AssertionError(f"server did not start (exit code {process.poll()})")


def stop(process: subprocess.Popen[str]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def server(npm_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The real server on 127.0.0.1 at a port the OS picked (PORT=0), so runs never clash."""
    process = subprocess.Popen(
        [tool("node"), "server.js"],
        cwd=EXAMPLE,
        env={**npm_env, "HOST": "127.0.0.1", "PORT": "0", "APP_VERSION": VERSION},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = read_port(process)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def summary(output: str) -> dict[str, int]:
    """The node:test TAP totals, e.g. {"pass": 4, "fail": 0, "skipped": 0}."""
    return {key: int(n) for key, n in re.findall(r"^# (pass|fail|skipped) (\d+)$", output, re.M)}


def test_unit_tests_pass(npm_env: dict[str, str]) -> None:
    result = npm(npm_env, "test")
    assert result.returncode == 0, result.stdout + result.stderr
    totals = summary(result.stdout)
    assert totals["fail"] == 0
    assert totals["pass"] >= 5


def test_lockfile_installs_offline(npm_env: dict[str, str]) -> None:
    result = npm(npm_env, "ci", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_e2e_passes_against_the_real_server(
    npm_env: dict[str, str], server: tuple[subprocess.Popen[str], str]
) -> None:
    _, base_url = server
    result = npm(npm_env, "run", "test:e2e", BASE_URL=base_url + "/", EXPECT_VERSION=VERSION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary(result.stdout) == {"pass": 4, "fail": 0, "skipped": 0}


def test_e2e_skips_the_version_check_without_expect_version(
    npm_env: dict[str, str], server: tuple[subprocess.Popen[str], str]
) -> None:
    _, base_url = server
    result = npm(npm_env, "run", "test:e2e", BASE_URL=base_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary(result.stdout) == {"pass": 3, "fail": 0, "skipped": 1}


def test_e2e_fails_on_the_wrong_version(
    npm_env: dict[str, str], server: tuple[subprocess.Popen[str], str]
) -> None:
    _, base_url = server
    result = npm(npm_env, "run", "test:e2e", BASE_URL=base_url, EXPECT_VERSION="not-deployed")
    assert result.returncode != 0
    assert summary(result.stdout) == {"pass": 3, "fail": 1, "skipped": 0}
    assert "version in the /health body" in result.stdout


def test_e2e_fails_without_base_url(npm_env: dict[str, str]) -> None:
    result = npm(npm_env, "run", "test:e2e")
    assert result.returncode != 0
    assert "BASE_URL must be set" in result.stdout


def test_server_exits_cleanly_on_sigterm(server: tuple[subprocess.Popen[str], str]) -> None:
    process, _ = server
    assert stop(process) == 0
