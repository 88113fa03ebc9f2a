"""``mode: changes`` when GitHub's API is slow, fails or lies: every service counts as changed,
with a warning, within the read's wall-clock budget; nothing a server says reaches git
unless it is a commit SHA."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.git_history import GitHistory
from support.github_api import GitHubApi
from support.github_state import GitHubState

from cdgen.deploy.changes import Entry, Verdict, find_changes
from cdgen.deploy.changes_records import RecordReader

from .changes_test import FILES, REPO, SERVICES, changes, deployed
from .conftest import TOKEN

NAMES = ["cart", "catalog", "web"]
ENTRIES = [Entry(str(row["service"]), tuple(row["paths"]), dict(row)) for row in SERVICES]
WARNING = "::warning title=Deployment records::cannot read the deployment records"


@pytest.fixture
def state() -> GitHubState:
    return GitHubState()


@pytest.fixture
def api(state: GitHubState) -> Iterator[GitHubApi]:
    with GitHubApi(state, tokens=[TOKEN]) as server:
        yield server


@pytest.fixture
def history(tmp_path: Path, state: GitHubState) -> GitHistory:
    """Every service deployed from the first commit, then a change to cart only."""
    found = GitHistory(tmp_path / "shop", state, REPO)
    found.commit(FILES, "the shop")
    for service in NAMES:
        deployed(state, found.shas[0], service, "in_progress", "success", env="production")
    found.commit({"src/cart/main.go": "package main // v2\n"})
    return found


Answer = Callable[[BaseHTTPRequestHandler], None]


class LyingApi(ThreadingHTTPServer):
    """A server on 127.0.0.1 answering the list of deployments and their statuses as told."""

    daemon_threads = True

    def __init__(self, listing: Answer, statuses: Answer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.listing, self.statuses = listing, statuses
        self.stop = threading.Event()
        self.hits = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: LyingApi

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.hits += 1
        answer = self.server.statuses if "/statuses" in self.path else self.server.listing
        answer(self)


def send(body: bytes, status: int = 200) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def drip(stop: threading.Event) -> Answer:
    """Headers at once, then a byte every 0.2 s for ever: no read ever times out."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000000")
        handler.end_headers()
        while not stop.wait(0.2):
            try:
                handler.wfile.write(b" ")
                handler.wfile.flush()
            except OSError:
                return

    return answer


RECORD = {"id": 1, "sha": "a" * 40, "payload": {"service": "cart"}}


@pytest.fixture
def lying() -> Iterator[Callable[[Answer, Answer], LyingApi]]:
    servers: list[LyingApi] = []

    def start(listing: Answer, statuses: Answer) -> LyingApi:
        server = LyingApi(listing, statuses)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop.set()
        server.shutdown()
        server.server_close()


def judged(history: GitHistory, reader: RecordReader) -> tuple[list[Verdict], list[str]]:
    warnings: list[str] = []
    environ = {"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(history.root / "none")}
    verdicts = find_changes(
        ENTRIES, "production", environ, reader, warnings.append, cwd=str(history.root)
    )
    return verdicts, warnings


def every_changed(verdicts: list[Verdict]) -> bool:
    return [v.service for v in verdicts if v.changed] == NAMES


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>upstream timed out</html>", "GitHub's answer is not JSON"),
        (b'{"message": "hello"}', "GitHub's list of deployments is not a JSON list"),
        (b"null", "GitHub's answer is not JSON"),
        (b'[{"id": "1", "sha": "' + b"a" * 40 + b'"}]', "has no id or commit"),
        (b'[{"id": true, "sha": "' + b"a" * 40 + b'"}]', "has no id or commit"),
        (b'[{"id": 1, "sha": "HEAD~1"}]', "has no id or commit"),
    ],
)
def test_garbage_from_the_list_changes_every_service_with_a_warning(
    tmp_path: Path, history: GitHistory, api: GitHubApi, body: bytes, problem: str
) -> None:
    api.respond(200, body, times=None)
    step = changes(tmp_path, history, api)
    assert step.code == 0
    assert step.changed == NAMES
    assert WARNING in step.log and problem in step.log
    assert sum(api.counts.values()) == 1  # garbage is not asked for again


def test_garbage_statuses_change_every_service(
    history: GitHistory, lying: Callable[[Answer, Answer], LyingApi]
) -> None:
    server = lying(send(json.dumps([RECORD]).encode()), send(b"{not json"))
    verdicts, warnings = judged(history, RecordReader(server.url, REPO, TOKEN))
    assert every_changed(verdicts)
    assert warnings and "not JSON" in warnings[0]


def test_a_commit_that_is_an_option_never_reaches_git(
    history: GitHistory, lying: Callable[[Answer, Answer], LyingApi], tmp_path: Path
) -> None:
    """A 40-character `sha` that git would read as an option writing a file."""
    target = tmp_path / "pwned"
    sha = f"--output={target}".ljust(40, "x")[:40]
    record = {"id": 1, "sha": sha, "payload": {"service": "cart"}}
    success = send(json.dumps([{"state": "success"}]).encode())
    server = lying(send(json.dumps([record]).encode()), success)
    verdicts, warnings = judged(history, RecordReader(server.url, REPO, TOKEN))
    assert every_changed(verdicts)
    assert warnings and "no id or commit" in warnings[0]
    assert not list(tmp_path.glob("pwned*"))


def test_a_server_that_answers_headers_then_nothing_is_given_up_on_in_time(
    history: GitHistory, api: GitHubApi
) -> None:
    api.stall(30, times=None)
    reader = RecordReader(api.url, REPO, TOKEN, budget=2.0, request_timeout=0.7)
    started = time.monotonic()
    verdicts, warnings = judged(history, reader)
    assert time.monotonic() - started < 4
    assert every_changed(verdicts)
    assert warnings and "within" in warnings[0]


def test_a_server_that_drips_its_answer_is_given_up_on_in_time(
    history: GitHistory, lying: Callable[[Answer, Answer], LyingApi]
) -> None:
    stop = threading.Event()
    server = lying(drip(stop), send(b"[]"))
    reader = RecordReader(server.url, REPO, TOKEN, budget=2.0, request_timeout=0.7)
    started = time.monotonic()
    try:
        verdicts, warnings = judged(history, reader)
    finally:
        stop.set()
    assert time.monotonic() - started < 4
    assert every_changed(verdicts)
    assert warnings and "no complete answer within 2s (no answer within" in warnings[0]
    assert reader.requests >= 2  # a timed-out read is asked again while the budget lasts


def test_a_server_error_then_an_answer_is_read_as_usual(
    tmp_path: Path, history: GitHistory, api: GitHubApi
) -> None:
    api.fail(times=1, status=502)
    step = changes(tmp_path, history, api)
    assert step.changed == ["cart"]
    assert WARNING not in step.log


def test_server_errors_past_the_budget_change_every_service(
    history: GitHistory, api: GitHubApi
) -> None:
    api.fail(times=None, status=500)
    reader = RecordReader(api.url, REPO, TOKEN, budget=1.5)
    started = time.monotonic()
    verdicts, warnings = judged(history, reader)
    assert time.monotonic() - started < 3
    assert every_changed(verdicts)
    assert warnings and "HTTP 500" in warnings[0]
