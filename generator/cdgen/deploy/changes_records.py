"""Each service's last successful deploy to an environment, read from the deployment records
the action writes (``task: deploy``, the service in the payload), newest first.

Only what is needed is asked: pages of the environment's deploy records until every service
has a successful one, and the statuses of just the records of services still unresolved.
Reading stops at a page limit; a service not found by then counts as never deployed (it is
rebuilt, which is never wrong, only slower).

An API that is slow, fails or answers what GitHub never sends (a body that is not JSON, a
record without a numeric id or a hexadecimal commit) makes the records unavailable, and then
every service counts as changed: the whole read has one wall-clock budget, each request runs
in a worker thread (a server that drips its answer cannot hold the job), and a commit SHA
reaches git only once it is hexadecimal.

REST: https://docs.github.com/rest/deployments/deployments#list-deployments and
https://docs.github.com/rest/deployments/statuses#list-deployment-statuses
"""

from __future__ import annotations

import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from cdgen import __version__
from cdgen.deploy.recording import record_service
from cdgen.deploy.records import describe
from cdgen.deploy.records_http import Reply, TransportFailure, send_request

MAX_PAGES = 20  # 2,000 deploy records
PER_PAGE = 100
ATTEMPTS = 3
REQUEST_TIMEOUT = 15.0
# The whole read: far below the changes job's 10 minutes, far above GitHub's usual answers.
BUDGET = 90.0
COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 repositories
SUCCEEDED = ("success", "inactive")  # GitHub adds inactive only to records that succeeded
USER_AGENT = f"cdgen-changes/{__version__}"

Send = Callable[[urllib.request.Request, float], "Reply | TransportFailure"]


class RecordsUnavailable(Exception):
    """The records could not be read: every service then counts as changed."""


@dataclass
class RecordReader:
    api_url: str
    repository: str
    token: str = field(repr=False)
    send: Send = send_request
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    budget: float = BUDGET
    request_timeout: float = REQUEST_TIMEOUT
    requests: int = 0
    deadline: float | None = None  # set by the first request

    def last_deployed(self, environment: str, services: Iterable[str]) -> dict[str, str]:
        """Service → the commit of its newest successful deploy to ``environment``, for each
        service that has one within the pages read."""
        wanted = set(services)
        found: dict[str, str] = {}
        for record in self._records(environment):
            service = record_service(record)
            if service not in wanted or service in found:
                continue
            if self._succeeded(record["id"]):
                found[service] = record["sha"]
                if len(found) == len(wanted):
                    break
        return found

    def _records(self, environment: str) -> Iterator[dict[str, Any]]:
        query = {"environment": environment, "task": "deploy", "per_page": str(PER_PAGE)}
        for page in range(1, MAX_PAGES + 1):
            body = self._get("/deployments", {**query, "page": str(page)})
            if not isinstance(body, list):
                raise RecordsUnavailable("GitHub's list of deployments is not a JSON list")
            for item in body:
                if not _well_formed(item):
                    raise RecordsUnavailable("a deployment in GitHub's list has no id or commit")
                yield item
            if len(body) < PER_PAGE:
                return

    def _succeeded(self, deployment_id: int) -> bool:
        body = self._get(f"/deployments/{deployment_id}/statuses", {"per_page": str(PER_PAGE)})
        if not isinstance(body, list):
            raise RecordsUnavailable(f"the statuses of deployment {deployment_id} are not a list")
        return any(isinstance(s, dict) and s.get("state") in SUCCEEDED for s in body)

    def _get(self, path: str, query: dict[str, str]) -> Any:
        owner, _, name = self.repository.partition("/")
        url = f"{self.api_url.rstrip('/')}/repos/{quote(owner)}/{quote(name)}{path}"
        request = urllib.request.Request(  # noqa: S310 - the API URL was checked as http(s)
            f"{url}?{urlencode(query)}",
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "User-Agent": USER_AGENT,
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )
        if self.deadline is None:
            self.deadline = self.clock() + self.budget
        problem = ""
        for attempt in range(1, ATTEMPTS + 1):
            remaining = self.deadline - self.clock()
            if remaining <= 0:
                problem = f"no complete answer within {self.budget:g}s ({problem or 'slow'})"
                break
            self.requests += 1
            reply = self._exchange(request, min(self.request_timeout, remaining))
            if isinstance(reply, Reply) and reply.status == 200:
                if reply.body is None:
                    problem = "GitHub's answer is not JSON"
                    break
                return reply.body
            if isinstance(reply, TransportFailure):
                problem = reply.detail
            else:
                problem = describe(reply)
                if reply.status < 500:
                    break  # a refusal: asking again would not change the answer
            pause = float(2 ** (attempt - 1))
            if attempt < ATTEMPTS and self.clock() + pause < self.deadline:
                self.sleep(pause)
        raise RecordsUnavailable(problem.replace(self.token, "***") if self.token else problem)

    def _exchange(
        self, request: urllib.request.Request, timeout: float
    ) -> Reply | TransportFailure:
        """One request in a worker thread: nothing (a server dripping bytes, a stuck DNS
        lookup) holds the read longer than ``timeout``."""
        box: list[Reply | TransportFailure] = []

        def work() -> None:
            try:
                box.append(self.send(request, timeout))
            except Exception as error:  # whatever it is, the records are unavailable
                box.append(TransportFailure("connection", f"{type(error).__name__}: {error}"))

        worker = threading.Thread(target=work, name="cdgen-changes-records", daemon=True)
        worker.start()
        worker.join(timeout)
        return box[0] if box else TransportFailure("timeout", f"no answer within {timeout:.1f}s")


def _well_formed(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), int)
        and not isinstance(item.get("id"), bool)
        and isinstance(item.get("sha"), str)
        and COMMIT.fullmatch(item["sha"]) is not None
    )
