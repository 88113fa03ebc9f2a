#!/usr/bin/env python3
"""A local HTTP double of GitHub's REST API: deployments, deployment statuses, commits and
compare, on 127.0.0.1, seeded from Python (github_state.GitHubState) or a JSON file.

It answers with GitHub's shapes (github_shapes.py), status codes and error bodies
``{"message", "documentation_url", "status"}``, pages lists with ``Link`` headers
(github_routes.py), and checks ``Authorization: Bearer|token <t>`` against its tokens.
Switches for tests: ``rate_limit`` (403 primary / 429 secondary), ``fail`` (5xx N times),
``stall`` (headers, then silence), ``delay`` (slow answers). Every request is recorded
(method, path, query, body, headers) and counted per endpoint.

Endpoints: https://docs.github.com/rest/deployments/deployments,
https://docs.github.com/rest/deployments/statuses, https://docs.github.com/rest/commits/commits

Run as a program (for act): ``github_api.py --seed FILE --port-file FILE [--token T]
[--record FILE]`` serves until killed, appending each request to FILE as a JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

if __package__ in (None, ""):  # run as a program: make the `support` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from support.github_faults import (
    Fault,
    error_body,
    error_json,
    primary_rate_limit,
    secondary_rate_limit,
)
from support.github_routes import Answer, Call, Routed, route
from support.github_seed import load_seed
from support.github_shapes import Urls
from support.github_state import BOT, ApiError, GitHubState

API_VERSIONS = ("2022-11-28", "2026-03-10")
MAX_BODY = 1 << 20
UNPARSABLE = object()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]
    endpoint: str


class GitHubApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        state: GitHubState | None = None,
        tokens: Mapping[str, str] | Iterable[str] = ("ghs_test_token",),
        read_only_tokens: Iterable[str] = (),
        port: int = 0,
        record_path: Path | None = None,
        quota: int = 5000,
    ) -> None:
        super().__init__(("127.0.0.1", port), GitHubHandler)
        self.state = state or GitHubState()
        # token -> the login it acts as (GITHUB_TOKEN acts as github-actions[bot])
        self.tokens = dict(tokens) if isinstance(tokens, Mapping) else dict.fromkeys(tokens, BOT)
        self.read_only_tokens = set(read_only_tokens)
        self.record_path = record_path
        self.requests: list[Recorded] = []
        self.counts: Counter[str] = Counter()
        self.delay = 0.0
        # Requests allowed before GitHub's primary rate limit answers 403: 5,000 an hour for
        # a user's token, 1,000 an hour per repository for GITHUB_TOKEN in Actions.
        self.quota = quota
        self.faults: list[Fault] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def urls(self) -> Urls:
        return Urls(self.url)

    # --- switches ------------------------------------------------------------------------

    def rate_limit(self, kind: str = "primary", times: int | None = 1, wait: int = 60) -> None:
        """primary: 403 with x-ratelimit-remaining 0 and a reset ``wait`` seconds away;
        secondary: 429 with retry-after ``wait``."""
        if kind not in ("primary", "secondary"):
            raise ValueError(f"rate limit kind is primary or secondary, not {kind!r}")
        limit = primary_rate_limit if kind == "primary" else secondary_rate_limit
        self._add_fault(limit(times, wait))

    def fail(self, times: int | None = 1, status: int = 502, message: str = "Server Error") -> None:
        self._add_fault(Fault(status, error_body(status, message), {}, times))

    def respond(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        """Any answer at all (a redirect, a body that is not JSON) for the next requests."""
        self._add_fault(Fault(status, body, headers or {}, times))

    def stall(self, seconds: float, times: int | None = 1) -> None:
        """Answer 200 headers promptly, then send nothing for ``seconds``."""
        self._add_fault(Fault(200, {}, {}, times, stall=seconds))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def take_fault(self) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times is None or fault.times > 0:
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    # --- bookkeeping ---------------------------------------------------------------------

    def record(self, request: Recorded) -> int:
        """Keep the request; returns how many requests came before it."""
        with self.lock:
            self.requests.append(request)
            self.counts[request.endpoint] += 1
            if self.record_path is not None:
                with self.record_path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(asdict(request)) + "\n")
            return len(self.requests) - 1

    def calls(self, endpoint: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def start(self) -> GitHubApi:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> GitHubApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class GitHubHandler(BaseHTTPRequestHandler):
    server: GitHubApi
    protocol_version = "HTTP/1.1"  # keep-alive, as GitHub's
    # Headers and body leave in separate writes: without TCP_NODELAY, Nagle's algorithm
    # and delayed ACKs hold every keep-alive answer back by about 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _read_body(self) -> Any:
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True  # the rest of the body cannot be skipped reliably
            return UNPARSABLE
        raw = self.rfile.read(int(length)) if int(length) else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return UNPARSABLE

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        body = self._read_body()
        routed = route(method, parts.path)
        endpoint = routed.label if routed else f"{method} (no such endpoint)"
        headers = {name.lower(): value for name, value in self.headers.items()}
        shown = "<unparsable>" if body is UNPARSABLE else body
        number = self.server.record(Recorded(method, parts.path, query, shown, headers, endpoint))
        time.sleep(self.server.delay)
        fault = self.server.take_fault()
        if fault is None and number >= self.server.quota:
            fault = primary_rate_limit(None, 3600)
        if fault is not None:
            self._send(fault.status, fault.body, fault.headers, number, stall=fault.stall)
            return
        try:
            answer = self._answer(method, routed, query, body, headers)
        except ApiError as error:
            answer = Answer(error.status, error_json(error), {})
        self._send(answer.status, answer.body, answer.headers, number)

    def _answer(
        self,
        method: str,
        routed: Routed | None,
        query: dict[str, list[str]],
        body: Any,
        headers: dict[str, str],
    ) -> Answer:
        token = self._authenticate(headers.get("authorization", ""))
        version = headers.get("x-github-api-version")
        if version is not None and version not in API_VERSIONS:
            raise ApiError(400, f"Unsupported 'X-GitHub-Api-Version' header value: {version}")
        if routed is None:
            raise ApiError(404, "Not Found")
        state = self.server.state
        with state.lock:
            if routed.repo_id is not None:
                repo = state.repo_by_id(routed.repo_id)
            else:
                repo = state.repo(routed.owner, routed.name)
        if method != "GET" and token in self.server.read_only_tokens:
            # What GITHUB_TOKEN gets without `deployments: write`.
            raise ApiError(403, "Resource not accessible by integration")
        if body is UNPARSABLE:
            raise ApiError(400, "Problems parsing JSON")
        login = self.server.tokens[token]
        call = Call(state, self.server.urls, repo, routed.rest, routed.groups, query, body, login)
        return routed.endpoint(call)

    def _authenticate(self, header: str) -> str:
        """The token, when it is one of the server's; GitHub's 401 otherwise."""
        if not header:
            raise ApiError(401, "Requires authentication")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() not in ("bearer", "token") or token not in self.server.tokens:
            raise ApiError(401, "Bad credentials")
        return token

    def _send(
        self,
        status: int,
        body: Any,
        headers: dict[str, str],
        number: int,
        stall: float = 0.0,
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-GitHub-Api-Version-Selected", API_VERSIONS[0])
        self.send_header("X-GitHub-Request-Id", f"0000:{number:04X}:CD6E:0000:00000000")
        used = number + 1
        defaults = {
            "x-ratelimit-limit": str(self.server.quota),
            "x-ratelimit-remaining": str(max(self.server.quota - used, 0)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-resource": "core",
        }
        for name, value in {**defaults, **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()
        if stall:
            time.sleep(stall)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)  # unless the client gave up waiting, as it should


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=Path, help="JSON seed (see github_seed.py)")
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--token", action="append", default=[])
    parser.add_argument("--record", type=Path)
    parser.add_argument("--quota", type=int, default=5000, help="requests before a 403")
    args = parser.parse_args()
    state = GitHubState()
    if args.seed:
        load_seed(state, json.loads(args.seed.read_text(encoding="utf-8")))
    tokens = args.token or ["ghs_test_token"]
    server = GitHubApi(state, tokens=tokens, record_path=args.record, quota=args.quota)
    args.port_file.write_text(str(server.server_address[1]), encoding="utf-8")
    server.serve_forever()


if __name__ == "__main__":
    main()
