"""Vercel's Deployment Protection: the smoke test sends the Protection Bypass for Automation
secret as `x-vercel-protection-bypass` (over real HTTP here), and the secret is masked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from support.site_lab import SiteLab

from cdgen.deploy.outcome import DEPLOYED, ROLLED_BACK

from .conftest import VERCEL_INPUTS, Deploy

SECRET = "bypass-s3cret-2c9d"


class Protected(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        allowed = self.headers.get("x-vercel-protection-bypass") == SECRET
        body = b"ok" if allowed else b"Authentication Required"
        self.send_response(200 if allowed else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def protected() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Protected)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("bypass", "result"), [(SECRET, DEPLOYED), ("", ROLLED_BACK)])
def test_the_smoke_test_passes_protection_with_the_bypass_secret(
    lab: SiteLab, deploy: Deploy, protected: str, bypass: str, result: str
) -> None:
    v2 = lab.add_vercel("web-v2", {})
    inputs = {**VERCEL_INPUTS, "site-production": "true", "image": v2, "smoke-url": protected}
    run = deploy({**inputs, "site-bypass": bypass})
    assert run.outcome.result == result, run.log
    if bypass:
        assert f"::add-mask::{SECRET}" in run.log.splitlines()
        shown = [line for line in run.log.splitlines() if not line.startswith("::add-mask::")]
        assert SECRET not in "\n".join(shown)
    else:
        assert run.outcome.smoke[-1][2] == "HTTP 401"
