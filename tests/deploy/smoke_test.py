"""Smoke attempts against servers that drip, lie or redirect nowhere: each attempt has a
wall-clock deadline, every error is a failed attempt, and nothing a server sends can
issue a workflow command or break the summary."""

from __future__ import annotations

import time

import pytest
from support.sandbox import GOOD, image
from support.smoke_server import SmokeServer

from cdgen.deploy.smoke import SmokeCheck, probe_url

from .conftest import NAMESPACE, Deploy, Sandbox

DRIP = image("drip")
INJECTED = "\r::error title=pwned::owned"


def serve(sandbox: Sandbox, **behaviour: object) -> str:
    """Make DRIP (an image the tests deploy) answer as ``behaviour`` says."""
    http = sandbox.state()["http"]
    http[DRIP] = behaviour
    sandbox.update(http=http)
    return DRIP


def test_a_dripping_answer_is_cut_at_the_deadline(deploy: Deploy, sandbox: Sandbox) -> None:
    # About 60 bytes, 0.2s apart: every read gets a byte well within a socket timeout.
    target = serve(sandbox, drip=0.2)
    started = time.monotonic()
    result = deploy("--image", target, "--smoke-timeout", "1s", "--smoke-retries", "1")
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed  # two attempts of 1s, not two answers of 12s
    assert result.code == 1
    assert result.outputs["result"] == "rolled-back"
    assert result.log.count(": fail: no answer within 1s (1.") == 2
    assert sandbox.image() == GOOD


def test_probe_deadline_is_wall_clock(sandbox: Sandbox, server: SmokeServer) -> None:
    target = serve(sandbox, drip=0.1)
    state = sandbox.state()
    state["deployments"][f"{NAMESPACE}/api"]["serving"] = {"api": target}
    sandbox.save(state)
    url = f"{server.url}/{NAMESPACE}/api"
    started = time.monotonic()
    assert probe_url(SmokeCheck(url, 0, 0, 1, "")) == (False, "no answer within 1s")
    assert time.monotonic() - started < 1.5


def test_status_line_from_the_server_cannot_issue_commands(
    deploy: Deploy, sandbox: Sandbox
) -> None:
    target = serve(sandbox, status_line=f"HTTP/1.1 2OO OK{INJECTED}")
    result = deploy("--image", target)
    assert result.code == 1
    assert result.outputs["result"] == "rolled-back"
    for text in (result.log, result.summary):
        assert "\r" not in text
        assert not [line for line in text.splitlines() if line.startswith("::error title=pwned")]
    assert "BadStatusLine: HTTP/1.1 2OO OK\\x0d::error title=pwned::owned" in result.log
    # In the summary the line is one table cell: its line break is a space.
    cell = "| 1 | ❌ request failed: BadStatusLine: HTTP/1.1 2OO OK ::error title=pwned::owned |"
    assert cell in result.summary


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("http://[::1/health", "ValueError"),  # urllib cannot parse the redirect
        ("http://staging..example.com/", "UnicodeError"),  # an empty host label
        (f"http://{'a' * 64}.example.com/", "UnicodeError"),  # a label over 63 characters
    ],
    ids=["bad-ipv6", "empty-label", "long-label"],
)
def test_an_error_of_the_request_is_a_failed_attempt(
    deploy: Deploy, sandbox: Sandbox, location: str, problem: str
) -> None:
    target = serve(sandbox, redirect=location)
    result = deploy("--image", target, "--smoke-retries", "1")
    assert result.code == 1, result.log
    assert result.outputs == {
        "result": "rolled-back",
        "previous-image": GOOD,
        "deployed-image": GOOD,
        "deployment-id": "",
    }
    assert result.log.count(f": fail: request failed: {problem}") == 2
    assert sandbox.image() == GOOD
    assert "nothing new went live" in result.summary


def test_markdown_from_the_server_is_escaped(deploy: Deploy, sandbox: Sandbox) -> None:
    target = serve(sandbox, status_line="HTTP/1.1 [click](https://evil.example/) ![x](https://t/)")
    result = deploy("--image", target)
    assert result.code == 1
    assert "[click](" not in result.summary
    assert "![x](" not in result.summary
    assert "\\[click\\](https://evil.example/) !\\[x\\](https://t/)" in result.summary
