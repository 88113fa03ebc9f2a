"""The few Cloudflare API calls a Pages deploy needs, standard library only.

- ``GET /accounts/{account}/pages/projects/{project}``: the project, with its
  ``production_branch`` and ``canonical_deployment`` (the production deployment it serves);
- ``GET …/deployments?env=preview&per_page=N``: the newest preview deployments first;
- ``POST …/deployments/{id}/rollback``: serve that production deployment again ("You can only
  rollback to successful builds on production").

Every answer is the v4 envelope ``{"success", "errors": [{"code", "message"}], "messages",
"result"}``. The token travels in the Authorization header only, only over https (or to the
loopback interface), and redirects are refused rather than followed with it.
Reference: https://developers.cloudflare.com/api/resources/pages/
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from cdgen import __version__
from cdgen.deploy.records_http import Reply, TransportFailure, send_request
from cdgen.deploy.records_target import LOOPBACK
from cdgen.deploy.site.provider import ProviderError

API_URL = "https://api.cloudflare.com/client/v4"
USER_AGENT = f"cdgen-deploy/{__version__}"
Send = Callable[[urllib.request.Request, float], "Reply | TransportFailure"]


def api_url_problem(url: str) -> str:
    """Why the token must not go to ``url``; "" when it may."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "is not a URL"
    if parts.scheme == "https" and host:
        return ""
    if parts.scheme == "http" and host in LOOPBACK:
        return ""
    return "must be an https URL (the API token is sent there)"


class CloudflareApi:
    def __init__(
        self,
        api_url: str,
        account: str,
        project: str,
        token: str,
        *,
        send: Send = send_request,
    ) -> None:
        self.project_name = project
        self.base = (
            f"{api_url.rstrip('/')}/accounts/{quote(account)}/pages/projects/{quote(project)}"
        )
        self._token = token
        self._send = send

    def read_project(self, timeout: float) -> dict[str, Any]:
        result = self._call("GET", "", timeout)
        if not isinstance(result, dict):
            raise ProviderError("unexpected answer from Cloudflare: the project is not an object")
        return result

    def previews(self, timeout: float) -> list[dict[str, Any]]:
        result = self._call("GET", "/deployments?env=preview&per_page=25", timeout)
        if not isinstance(result, list):
            raise ProviderError("unexpected answer from Cloudflare: deployments are not a list")
        return [item for item in result if isinstance(item, dict)]

    def rollback(self, deployment_id: str, timeout: float) -> dict[str, Any]:
        path = f"/deployments/{quote(deployment_id)}/rollback"
        result = self._call("POST", path, timeout)
        return result if isinstance(result, dict) else {}

    def _call(self, method: str, path: str, timeout: float) -> Any:
        headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {self._token}",
            "User-Agent": USER_AGENT,
        }
        request = urllib.request.Request(  # noqa: S310 - the scheme was checked
            self.base + path, headers=headers, method=method
        )
        reply = _bounded(self._send, request, timeout)
        what = f"{method} {urlsplit(self.base + path).path}"
        if isinstance(reply, TransportFailure):
            raise ProviderError(f"Cloudflare API {what}: {reply.detail}")
        body = reply.body if isinstance(reply.body, dict) else {}
        if 200 <= reply.status < 300 and body.get("success") is True:
            return body.get("result")
        raise ProviderError(f"Cloudflare API {what}: {_describe(reply, body)}")


def _describe(reply: Reply, body: dict[str, Any]) -> str:
    """``HTTP 400: Cannot rollback to a preview deployment. [8000034]``, token-free."""
    found = body.get("errors")
    errors: list[Any] = found if isinstance(found, list) else []
    said = "; ".join(
        f"{error.get('message', '')} [{error.get('code', '?')}]"
        for error in errors[:3]
        if isinstance(error, dict)
    )
    hint = {
        401: " (the token is wrong or expired)",
        403: " (the token is wrong, expired, or lacks Cloudflare Pages: Edit on the account)",
    }
    return f"HTTP {reply.status}{hint.get(reply.status, '')}" + (f": {said}" if said else "")


def _bounded(
    send: Send, request: urllib.request.Request, timeout: float
) -> Reply | TransportFailure:
    """One request in a worker thread: nothing (a server dripping its answer, a stuck DNS
    lookup) holds the deploy longer than ``timeout``."""
    box: list[Reply | TransportFailure] = []

    def work() -> None:
        try:
            box.append(send(request, timeout))
        except Exception as error:
            box.append(TransportFailure("connection", f"{type(error).__name__}: {error}"))

    worker = threading.Thread(target=work, name="cdgen-cloudflare-api", daemon=True)
    worker.start()
    worker.join(timeout)
    return box[0] if box else TransportFailure("timeout", f"no answer within {timeout:g}s")
