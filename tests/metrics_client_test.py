"""The metrics client: the token's sources, GitHub's refusals as errors naming what to fix,
retries, time limits, and servers that lie (a local stand-in for a misbehaving GitHub)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.deploy_history import REPO, Seeder
from support.github_api import GitHubApi
from support.github_state import GitHubState
from support.http_json import TOKEN

from cdgen.errors import CdgenError
from cdgen.metrics import client as client_module
from cdgen.metrics import measure
from cdgen.metrics import records as records_module
from cdgen.metrics.client import GitHubClient, Token, find_token, next_link
from cdgen.metrics.query import Query
from cdgen.metrics.records import GitHubCommits, Window

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Seen:
    path: str
    authorization: str | None


@dataclass
class Liar:
    """A local HTTP server that answers every GET with ``answer(path)``."""

    answer: Callable[[str], Answer]
    seen: list[Seen] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Liar:
        liar = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                liar.seen.append(Seen(self.path, self.headers.get("Authorization")))
                status, headers, body = liar.answer(self.path)
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


def ok(body: object, headers: dict[str, str] | None = None) -> Answer:
    return 200, headers or {}, json.dumps(body).encode()


def client_for(url: str, token: str = TOKEN, timeout: float = 5) -> GitHubClient:
    return GitHubClient(url, Token(token, "GH_TOKEN"), timeout=timeout, retry_pause=0)


@pytest.fixture
def state() -> GitHubState:
    seeded = GitHubState()
    seed = Seeder(seeded)
    c0, c1 = seed.commits(2, first=-30)
    seed.success(c0, -10)
    seed.success(c1, 5)
    return seeded


@pytest.fixture
def api(state: GitHubState) -> Iterator[GitHubApi]:
    with GitHubApi(state) as server:
        yield server


def measure_with(client: GitHubClient, repo: str = REPO) -> dict[str, Any]:
    window = Window(date(2026, 9, 1), date(2026, 10, 1))
    return measure(Query(repo, "production", window, "json", client.api_url), client).to_json()


# --- the token ------------------------------------------------------------------------------


def fake_gh(bin_dir: Path, script: str) -> Path:
    """A `gh` on PATH: the real one needs a GitHub login, which cannot happen here."""
    bin_dir.mkdir(exist_ok=True)
    gh = bin_dir / "gh"
    gh.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    gh.chmod(0o755)
    return gh


def test_gh_token_comes_before_github_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    both = {"GH_TOKEN": "gho_first", "GITHUB_TOKEN": "ghs_second"}
    assert find_token("https://api.github.com", both) == Token("gho_first", "GH_TOKEN")
    empty_first = {"GH_TOKEN": " ", "GITHUB_TOKEN": "ghs_second"}
    assert find_token("https://api.github.com", empty_first) == Token("ghs_second", "GITHUB_TOKEN")


@pytest.mark.parametrize("token", ["ghp_a\nX-Evil: 1", "ghp_a b", "ghp_é"])
def test_a_token_that_could_break_its_header_is_refused(
    token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CdgenError, match="the token from GH_TOKEN is not printable ASCII"):
        find_token("https://api.github.com", {"GH_TOKEN": token})
    fake_gh(tmp_path / "bin", f"printf '%s\\n' '{token}'")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(CdgenError, match="from `gh auth token` is not printable ASCII"):
        find_token("https://api.github.com", {})


def test_then_gh_auth_token_for_the_api_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_gh(tmp_path / "bin", f'echo "$@" >> {tmp_path}/args\necho gho_from_gh')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_token("https://api.github.com", {}) == Token("gho_from_gh", "`gh auth token`")
    assert find_token("https://ghe.example.com/api/v3", {}).value == "gho_from_gh"
    assert (tmp_path / "args").read_text().splitlines() == [
        "auth token",
        "auth token --hostname ghe.example.com",
    ]


def test_no_token_anywhere_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_gh(tmp_path / "bin", "echo 'You are not logged into any GitHub hosts.' >&2\nexit 1")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(CdgenError, match=r"no GitHub token: set GH_TOKEN .* `gh auth login`"):
        find_token("https://api.github.com", {})
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(CdgenError, match="no GitHub token"):
        find_token("https://api.github.com", {})


# --- GitHub's refusals ----------------------------------------------------------------------


def test_a_bad_token_names_its_source(api: GitHubApi) -> None:
    with pytest.raises(CdgenError) as raised:
        measure_with(client_for(api.url, token="ghp_wrong_token"))
    message = str(raised.value)
    assert "GitHub refused the token from GH_TOKEN (401 Bad credentials)" in message
    assert "ghp_wrong_token" not in message


def test_an_unknown_repository_is_a_404_naming_the_switches(api: GitHubApi) -> None:
    with pytest.raises(CdgenError, match=r"/repos/acme/nope/deployments\?.* was not found \(404\)"):
        measure_with(client_for(api.url), repo="acme/nope")


def test_rate_limits_say_how_long_to_wait(api: GitHubApi) -> None:
    api.rate_limit("primary", times=None, wait=120)
    with pytest.raises(CdgenError, match=r"rate limit .*wait until \d\d:\d\d:\d\d UTC"):
        measure_with(client_for(api.url))
    api.clear_faults()
    api.rate_limit("secondary", times=None, wait=7)
    with pytest.raises(CdgenError, match=r"secondary rate limit.*: wait 7 s, then rerun"):
        measure_with(client_for(api.url))


def test_a_forbidden_repository_names_the_access_needed() -> None:
    def forbidden(path: str) -> Answer:
        return 403, {}, json.dumps({"message": "Resource not accessible by integration"}).encode()

    with Liar(forbidden) as liar, pytest.raises(CdgenError, match=r"403 .* needs read access"):
        measure_with(client_for(liar.url))


def test_server_errors_are_retried(api: GitHubApi) -> None:
    api.fail(times=2, status=502)
    client = client_for(api.url)
    assert measure_with(client)["deployments"]["successful"] == 1
    assert client.requests == len(api.requests)
    api.fail(times=None, status=503)
    with pytest.raises(CdgenError, match=r"503 Server Error \(tried 3 times\); try again later"):
        measure_with(client_for(api.url))


def test_a_stalled_answer_times_out(api: GitHubApi) -> None:
    api.stall(seconds=2, times=None)
    with pytest.raises(CdgenError, match=r"no answer within 0.3 s \(tried 3 times\)"):
        measure_with(client_for(api.url, timeout=0.3))


def test_an_unreachable_api_is_reported(api: GitHubApi) -> None:
    url = api.url
    api.stop()
    with pytest.raises(CdgenError, match=f"cannot reach {url}"):
        measure_with(client_for(url))


@contextmanager
def dribbling_server(seconds_per_byte: float) -> Iterator[str]:
    """Answers at once, then sends its body a byte at a time: every read succeeds, the
    whole answer never comes in time."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                body = b"[" + b" " * 200 + b"]"
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n"
                try:
                    connection.sendall(head.encode())
                    for byte in body:
                        if stop.wait(seconds_per_byte):
                            return
                        connection.sendall(bytes([byte]))
                except OSError:
                    continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)


def test_an_answer_dribbling_in_is_cut_off_at_the_time_limit() -> None:
    with dribbling_server(seconds_per_byte=0.05) as url:
        started = time.monotonic()
        with pytest.raises(CdgenError, match=r"no answer within 0.3 s \(tried 3 times\)"):
            client_for(url, timeout=0.3).get("/repos/acme/api/deployments")
    assert time.monotonic() - started < 3  # the whole body would take 10 s a try


# --- servers that lie -----------------------------------------------------------------------


def test_the_token_never_leaves_the_api_origin() -> None:
    with Liar(lambda path: ok([])) as elsewhere:
        link = f'<{elsewhere.url}/steal?page=2>; rel="next"'
        moved = {"Location": f"{elsewhere.url}/steal"}
        answers = {"/repos/acme/api/deployments": ok([], {"Link": link})}

        def lying(path: str) -> Answer:
            return answers.get(path.split("?", maxsplit=1)[0], (301, moved, b""))

        with Liar(lying) as liar:
            with pytest.raises(CdgenError, match="refusing to send the token there"):
                measure_with(client_for(liar.url))
            with pytest.raises(CdgenError, match=r"redirects to .*: not following it"):
                client_for(liar.url).get("/repos/acme/old-name")
        assert elsewhere.seen == []


def test_redirects_within_the_api_keep_the_token() -> None:
    def renamed(path: str) -> Answer:
        if path.startswith("/repos/acme/old-name"):
            return 301, {"Location": path.replace("old-name", "api")}, b""
        return ok([])

    with Liar(renamed) as liar:
        reply = client_for(liar.url).get("/repos/acme/old-name/deployments")
    assert reply.body == []
    assert [seen.authorization for seen in liar.seen] == [f"Bearer {TOKEN}"] * 2


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"<html>Unicorn!</html>", "not JSON"),
        (b'{"message": "a list was expected"}', "not a JSON list"),
        (b"[1, 2]", "not a JSON object"),
        (b'[{"id": 1, "created_at": "2026-09-02T00:00:00Z"}]', "`sha` missing or malformed"),
        (b'[{"id": 1, "sha": "../../x", "created_at": "2026-09-02T00:00:00Z"}]', "`sha`"),
        (b'[{"id": true, "sha": "' + b"a" * 40 + b'", "created_at": "2026-09-02"}]', "`id`"),
        (b'[{"id": 1, "sha": "' + b"a" * 40 + b'", "created_at": "yesterday"}]', "`created_at`"),
    ],
)
def test_malformed_answers_are_reported_not_trusted(body: bytes, complaint: str) -> None:
    with Liar(lambda path: (200, {}, body)) as liar, pytest.raises(CdgenError) as raised:
        measure_with(client_for(liar.url))
    assert "/repos/acme/api/deployments" in str(raised.value)
    assert complaint in str(raised.value)


def test_a_deployment_repeated_by_shifting_pages_counts_once() -> None:
    """A deployment made while the pages are read pushes the last one of page 1 onto
    page 2: GitHub then lists it twice."""

    def deployment(ident: int) -> dict[str, object]:
        return {"id": ident, "sha": "a" * 40, "created_at": f"2026-09-0{ident}T00:00:00Z"}

    def statuses(ident: int) -> list[dict[str, object]]:
        return [
            {"id": 2 * ident, "state": "failure", "created_at": f"2026-09-0{ident}T00:05:00Z"},
            {
                "id": 2 * ident - 1,
                "state": "in_progress",
                "created_at": f"2026-09-0{ident}T00:00:00Z",
            },
        ]

    def shifting(path: str) -> Answer:
        if "/statuses" in path:
            return ok(statuses(int(path.split("/")[-2])))
        if "page=2" in path:
            return ok([deployment(2), deployment(1)])
        return ok(
            [deployment(3), deployment(2)], {"Link": f'<{liar.url}{path}&page=2>; rel="next"'}
        )

    with Liar(shifting) as liar:
        figures = measure_with(client_for(liar.url))
    assert figures["deployments"] == {"total": 3, "successful": 0, "failed": 3}
    assert sum("/deployments/2/statuses" in seen.path for seen in liar.seen) == 1


def test_a_comparison_that_never_ends_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records_module, "MAX_PAGES", 3)
    commit = {
        "sha": "b" * 40,
        "parents": [],
        "commit": {"committer": {"date": "2026-09-01T00:00:00Z"}},
    }
    endless = {"status": "ahead", "total_commits": 10**9, "commits": [commit]}
    with Liar(lambda path: ok(endless)) as liar:
        commits = GitHubCommits(client_for(liar.url), REPO)
        with pytest.raises(CdgenError, match="the pages of the comparison never end"):
            commits.compare("a" * 40, "b" * 40)
    assert len(liar.seen) == 3


def test_pages_that_never_end_are_refused() -> None:
    def circular(path: str) -> Answer:
        return ok([], {"Link": f'<{liar.url}{path}>; rel="next"'})

    with Liar(circular) as liar, pytest.raises(CdgenError, match=r"the pages of .* never end"):
        measure_with(client_for(liar.url))
    assert len(liar.seen) == 1  # the same page is not asked for twice


def test_an_oversized_answer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_BODY", 1000)
    with Liar(lambda path: ok(["x" * 2000])) as liar, pytest.raises(CdgenError, match="larger"):
        client_for(liar.url).get("/repos/acme/api/deployments")


@pytest.mark.parametrize(
    ("header", "url"),
    [
        (
            '<https://a/x?page=2>; rel="next", <https://a/x?page=9>; rel="last"',
            "https://a/x?page=2",
        ),
        ('<https://a/x?page=1>; rel="prev",<https://a/x?page=3>; rel=next', "https://a/x?page=3"),
        ('<https://a/x?page=1>; rel="first"', None),
        ("", None),
    ],
)
def test_next_link(header: str, url: str | None) -> None:
    assert next_link(header) == url
