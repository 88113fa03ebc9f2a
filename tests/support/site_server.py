"""One local HTTP server for a site lab: a fake of Cloudflare's API and the live sites.

- ``/client/v4/accounts/{account}/pages/projects/{project}…``: the Cloudflare API calls a
  Pages deploy makes (get the project; list deployments with ``env``, ``page`` and
  ``per_page``; roll back), answering with the v4 envelope ``{"success", "errors": [{"code",
  "message"}], "messages", "result"[, "result_info"]}`` and the ``Project`` and
  ``Deployment`` shapes of https://developers.cloudflare.com/api/resources/pages/. Only a
  request bearing the lab's token is answered; a rollback takes only a production deployment
  that built successfully ("You can only rollback to successful builds on production").
  The error codes are the lab's own; the shapes are Cloudflare's.
- ``/vercel/PATH``: the file PATH of the deployment Vercel's production serves;
  ``/cf/BRANCH/PATH``: the file of the deployment a Cloudflare Pages branch serves. A file a
  deployment does not have answers 404.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from support.site_state import (
    CLOUDFLARE_ACCOUNT,
    CLOUDFLARE_PROJECT,
    CLOUDFLARE_TOKEN,
    NOW,
    SiteState,
    live_cloudflare,
    public,
)

API = re.compile(
    r"/client/v4/accounts/(?P<account>[^/]+)/pages/projects/(?P<project>[^/]+)"
    r"(?P<rest>/deployments(?:/(?P<id>[^/]+)/rollback)?)?"
)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: SiteState) -> None:
        super().__init__(("127.0.0.1", 0), SiteHandler)
        self.state = state

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/client/v4"


class SiteHandler(BaseHTTPRequestHandler):
    server: SiteServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/client/v4/"):
            self._api("GET")
        elif path.startswith("/vercel/"):
            lab = self.server.state.read()["vercel"]
            self._file(lab["deployments"].get(lab["production"]), path.removeprefix("/vercel"))
        elif path.startswith("/cf/"):
            branch, _, rest = path.removeprefix("/cf/").partition("/")
            self._file(live_cloudflare(self.server.state.read(), branch), "/" + rest)
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        self._api("POST")

    # --- the sites -------------------------------------------------------------------

    def _file(self, deployment: dict[str, Any] | None, path: str) -> None:
        files = (deployment or {}).get("files", {})
        if path not in files:
            self._send(404, b"404: NOT_FOUND", "text/plain")
            return
        self._send(200, files[path].encode(), "text/plain")

    # --- Cloudflare's API ------------------------------------------------------------

    def _api(self, method: str) -> None:
        parts = urlsplit(self.path)
        found = API.fullmatch(parts.path)
        record = {"method": method, "path": parts.path, "query": parts.query}
        with self.server.state.change() as state:
            state["cloudflare"]["requests"].append(record)
        fault = self.server.state.read()["cloudflare"].get("api_fault")
        if fault and self._fault(str(fault)):
            return
        if self.headers.get("Authorization") != f"Bearer {CLOUDFLARE_TOKEN}":
            self._error(403, 10000, "Authentication error")
        elif found is None or (method == "POST") != bool(found["id"]):
            self._error(
                404,
                7003,
                "Could not route to /client/v4/..., perhaps your object identifier is invalid?",
            )
        elif found["account"] != CLOUDFLARE_ACCOUNT or found["project"] != CLOUDFLARE_PROJECT:
            self._error(
                404,
                8000007,
                "Project not found. The specified project name does not match any of your existing projects.",
            )
        elif found["id"]:
            self._rollback(found["id"])
        elif found["rest"]:
            self._list(parse_qs(parts.query))
        else:
            self._ok(self._project(self.server.state.read()))

    def _fault(self, fault: str) -> bool:
        """A lying or slow API: "not-json", "success-false" (HTTP 200), "redirect", "slow"."""
        if fault == "not-json":
            self._send(200, b"<html>502 Bad Gateway</html>", "text/html")
        elif fault == "success-false":
            body = {"success": False, "errors": [], "messages": [], "result": None}
            self._send(200, json.dumps(body).encode(), "application/json")
        elif fault == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif fault == "slow":
            time.sleep(3)
            return False
        return True

    def _project(self, state: dict[str, Any]) -> dict[str, Any]:
        lab = state["cloudflare"]
        canonical = next((d for d in lab["deployments"] if d["id"] == lab["canonical"]), None)
        return {
            "id": "7b162ea7-7367-4d67-bcde-1160995d5",
            "name": CLOUDFLARE_PROJECT,
            "subdomain": f"{CLOUDFLARE_PROJECT}.pages.dev",
            "domains": [f"{CLOUDFLARE_PROJECT}.pages.dev", "acme.example.com"],
            "production_branch": lab["production_branch"],
            "created_on": NOW,
            "build_config": {
                "build_caching": False,
                "build_command": "",
                "destination_dir": "",
                "root_dir": "",
            },
            "deployment_configs": {"preview": {}, "production": {}},
            "source": None,
            "framework": "",
            "framework_version": "",
            "uses_functions": False,
            "canonical_deployment": public(canonical) if canonical else None,
            "latest_deployment": public(lab["deployments"][0]) if lab["deployments"] else None,
        }

    def _list(self, query: dict[str, list[str]]) -> None:
        deployments = self.server.state.read()["cloudflare"]["deployments"]
        env = query.get("env", [""])[0]
        if env:
            deployments = [d for d in deployments if d["environment"] == env]
        per_page = int(query.get("per_page", ["25"])[0])
        page = int(query.get("page", ["1"])[0])
        shown = deployments[(page - 1) * per_page : page * per_page]
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(shown),
            "total_count": len(deployments),
            "total_pages": max(1, -(-len(deployments) // per_page)),
        }
        self._ok([public(d) for d in shown], info)

    def _rollback(self, ident: str) -> None:
        with self.server.state.change() as state:
            lab = state["cloudflare"]
            target = next((d for d in lab["deployments"] if d["id"] == ident), None)
            if "rollback" in lab["fail"]:
                problem: tuple[int, int, str] | None = (500, 8000000, "An unknown error occurred.")
            elif target is None:
                problem = (404, 8000009, "The deployment ID you have specified does not exist.")
            elif (
                target["environment"] != "production"
                or target["latest_stage"]["status"] != "success"
            ):
                problem = (
                    400,
                    8000034,
                    "You can only rollback to successful builds on production.",
                )
            else:
                problem = None
                lab["canonical"] = ident
        if problem:
            self._error(*problem)
        else:
            self._ok(public(target or {}))

    def _ok(self, result: Any, info: dict[str, Any] | None = None) -> None:
        body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
        if info is not None:
            body["result_info"] = info
        self._send(200, json.dumps(body).encode(), "application/json")

    def _error(self, status: int, code: int, message: str) -> None:
        body = {
            "success": False,
            "errors": [{"code": code, "message": message}],
            "messages": [],
            "result": None,
        }
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start_site_server(state_path: Path) -> SiteServer:
    server = SiteServer(SiteState(state_path))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
