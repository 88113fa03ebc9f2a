"""GitHub deployment records: one deployment per deploy or rollback, naming the commit of the
image that goes live, whose status then moves from ``in_progress`` to the result. The
repository's environments page and ``cdgen metrics`` read them back.

This is bookkeeping: it must never fail, stop or slow down a deploy or a rollback much.
Every failure becomes a warning passed to ``warn`` (never an exception), every call is
bounded in wall-clock time, only server errors, lost connections and rate limits are
retried, and the token goes into the Authorization header only, never into a message.

REST: https://docs.github.com/rest/deployments/deployments#create-a-deployment and
https://docs.github.com/rest/deployments/statuses#create-a-deployment-status
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from cdgen import __version__
from cdgen.deploy.records_http import Reply, TransportFailure, send_request
from cdgen.deploy.records_target import RecordTarget, one_line

FINAL_STATES = ("success", "failure", "error", "inactive")
MAX_DESCRIPTION = 140  # GitHub refuses longer status descriptions
RETRIED_STATUSES = (500, 502, 503, 504)
USER_AGENT = f"cdgen-deploy/{__version__}"

# Quoted: the alias is evaluated at import, and Python 3.9 has no `X | Y` at runtime.
Send = Callable[[urllib.request.Request, float], "Reply | TransportFailure"]


def shorten(text: str, limit: int = MAX_DESCRIPTION) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Records:
    """Opens one deployment record, then moves its status. Make one per deploy."""

    def __init__(
        self,
        target: RecordTarget,
        warn: Callable[[str], None] | None = None,
        *,
        send: Send = send_request,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        budget: float = 15.0,
        request_timeout: float = 8.0,
        attempts: int = 3,
        max_wait: float = 10.0,
    ) -> None:
        self.target = target
        self.warnings: list[str] = []
        self._warn = warn
        self._send = send
        self._clock, self._sleep, self._now = clock, sleep, now
        self.budget, self.request_timeout = budget, request_timeout
        self.attempts, self.max_wait = attempts, max_wait
        # The record open() created, known before open() returns: a cancellation while its
        # first status is posted must not leave it in progress for ever.
        self.opened: int | None = None

    def open(self, image: str, description: str, task: str = "deploy") -> int | None:
        """Create the deployment and mark it in_progress; its id, or None (warned).

        ``task`` tells deploys (``deploy``) from rollbacks (``rollback``): a promotion accepts
        only an image whose deploy, tests included, passed the environment before."""
        problem = self.target.problem()
        if problem:
            self._warning(f"no deployment record: {problem}")
            return None
        body: dict[str, Any] = {
            "ref": self.target.commit,
            "task": task,
            "auto_merge": False,  # a rollback deploys a commit behind the default branch
            "required_contexts": [],  # the image was tested; commit checks do not gate this
            "payload": {"image": image, "tool": "cdgen"},
            "environment": self.target.environment,
            "description": shorten(description),
            "transient_environment": False,
        }
        if self.target.production is not None:
            body["production_environment"] = self.target.production
        deadline = self._clock() + self.budget  # one budget for both requests
        # A timed-out create may still have happened: retrying could record it twice.
        what = "create the deployment record"
        reply = self._call(what, "/deployments", body, deadline, retry_timeouts=False)
        if reply is None:
            return None
        ident = reply.body.get("id") if isinstance(reply.body, dict) else None
        if not isinstance(ident, int) or isinstance(ident, bool) or ident <= 0:
            self._warning("could not create the deployment record: GitHub's answer has no id")
            return None
        self.opened = ident
        self._status(ident, "in_progress", description, deadline)
        return ident

    def close(self, deployment_id: int, state: str, description: str) -> bool:
        """Give the deployment its final state: success, failure, error or inactive."""
        if state not in FINAL_STATES:
            self._warning(f"deployment record {deployment_id}: {state!r} is not a final state")
            return False
        problem = self.target.problem(closing=True)
        if problem:
            self._warning(f"deployment record {deployment_id} not updated: {problem}")
            return False
        return self._status(deployment_id, state, description, self._clock() + self.budget)

    def _status(self, deployment_id: int, state: str, description: str, deadline: float) -> bool:
        body = {"state": state, "description": shorten(description)}
        if self.target.log_url:
            body["log_url"] = self.target.log_url
        if self.target.environment_url:
            body["environment_url"] = self.target.environment_url
        what = f"set deployment record {deployment_id} to {state}"
        path = f"/deployments/{deployment_id}/statuses"
        return self._call(what, path, body, deadline, retry_timeouts=True) is not None

    # --- one request, retried within the budget ------------------------------------------

    def _call(
        self, what: str, path: str, body: dict[str, Any], deadline: float, retry_timeouts: bool
    ) -> Reply | None:
        request = self._request(path, body)
        for attempt in range(1, self.attempts + 1):
            remaining = deadline - self._clock()
            if remaining <= 0:
                self._warning(f"could not {what}: no answer within {self.budget:g}s")
                return None
            result = self._exchange(request, min(self.request_timeout, remaining))
            if isinstance(result, Reply) and 200 <= result.status < 300:
                return result
            problem, wait = self._judge(result, attempt, retry_timeouts)
            if wait is None or attempt == self.attempts:
                self._warning(f"could not {what}: {problem}")
                return None
            if wait > self.max_wait or self._clock() + wait >= deadline:
                self._warning(f"could not {what}: {problem}; not waiting {wait:.0f}s to retry")
                return None
            self._sleep(wait)
        return None  # not reached: the last attempt always returns above

    def _request(self, path: str, body: dict[str, Any]) -> urllib.request.Request:
        owner, _, name = self.target.repository.partition("/")
        url = f"{self.target.api_url.rstrip('/')}/repos/{quote(owner)}/{quote(name)}{path}"
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.target.token}",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Api-Version": "2022-11-28",
        }
        data = json.dumps(body).encode("utf-8")
        return urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310

    def _exchange(
        self, request: urllib.request.Request, timeout: float
    ) -> Reply | TransportFailure:
        """One request in a worker thread, so that nothing (a server dripping bytes, a
        stuck DNS lookup) can hold the deploy longer than ``timeout``."""
        box: list[Reply | TransportFailure] = []

        def work() -> None:
            try:
                box.append(self._send(request, timeout))
            except Exception as error:
                box.append(TransportFailure("connection", f"{type(error).__name__}: {error}"))

        worker = threading.Thread(target=work, name="cdgen-deployment-record", daemon=True)
        worker.start()
        worker.join(timeout)
        return box[0] if box else TransportFailure("timeout", f"no answer within {timeout:g}s")

    def _judge(
        self, result: Reply | TransportFailure, attempt: int, retry_timeouts: bool
    ) -> tuple[str, float | None]:
        """What went wrong, and how long to wait before retrying (None: do not retry)."""
        backoff = float(2 ** (attempt - 1))
        if isinstance(result, TransportFailure):
            retry = result.kind == "connection" or retry_timeouts
            return result.detail, backoff if retry else None
        problem = describe(result)
        headers = result.headers
        if _rate_limited(result, problem):
            if "retry-after" in headers:
                return problem, _seconds(headers["retry-after"])
            if "x-ratelimit-reset" in headers:
                return problem, max(0.0, _seconds(headers["x-ratelimit-reset"]) - self._now())
            return problem, 60.0  # GitHub: without a header, wait at least a minute
        if result.status in RETRIED_STATUSES:
            asked = headers.get("retry-after")
            return problem, backoff if asked is None else _seconds(asked)
        return problem, None  # other 4xx (and 3xx): asking again would not change the answer

    def _warning(self, text: str) -> None:
        if len(self.target.token) >= 4:  # never show the token, even if GitHub echoed it
            text = text.replace(self.target.token, "***")
        self.warnings.append(text)
        if self._warn is not None:
            self._warn(text)


def _rate_limited(reply: Reply, problem: str) -> bool:
    """A primary (403, remaining 0) or secondary (403 or 429) rate limit."""
    if reply.status == 429:
        return True
    exhausted = reply.headers.get("x-ratelimit-remaining") == "0"
    return reply.status == 403 and (
        exhausted or "retry-after" in reply.headers or "rate limit" in problem
    )


def _seconds(text: str) -> float:
    try:
        return max(0.0, float(text))
    except ValueError:
        return 60.0


HINTS = {
    301: "redirects are not followed, so the token stays with GitHub",
    302: "redirects are not followed, so the token stays with GitHub",
    307: "redirects are not followed, so the token stays with GitHub",
    401: "the token is missing, wrong or expired",
    403: "the job needs `permissions: deployments: write`",
    404: "the repository is unknown or the token cannot see it",
}


def describe(reply: Reply) -> str:
    message = reply.body.get("message") if isinstance(reply.body, Mapping) else None
    text = f"GitHub answered HTTP {reply.status}"
    if isinstance(message, str) and message:
        text += f": {shorten(message, 200)}"
    hint = HINTS.get(reply.status)
    if hint and "rate limit" not in text:
        text += f" ({hint})"
    return text
