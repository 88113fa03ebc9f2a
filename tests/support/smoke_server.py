#!/usr/bin/env python3
"""An HTTP server on 127.0.0.1 whose answers depend on the image that is live.

``GET /NAMESPACE/DEPLOYMENT`` looks up the image the Deployment is serving in the kubectl
simulator's state file, then answers as ``state["http"][image]`` says:

    status      HTTP status (default 200)
    delay       seconds to wait before answering (past the engine's per-request limit)
    fail_first  answer 503 to this many requests first (a flaky start)
    version     shown in the body and the X-Version header (default: the image's tag)
    version_in  "body", "header" or "both" (default)
    status_line a raw status line sent as is (e.g. one holding "\r::error …")
    redirect    answer 302 with this Location header
    drip        seconds between the bytes of the answer: a server that trickles it

An image without an entry gets 404. Run as a program it prints its port and serves until
killed; tests start it in a thread with ``start_server``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SmokeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state_path: str, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), SmokeHandler)
        self.state_path = state_path
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def _state(self) -> dict[str, Any]:
        with open(self.state_path, encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)  # the simulator rewrites it under LOCK_EX
            state: dict[str, Any] = json.load(handle)
        return state

    def serving_image(self, namespace: str, name: str) -> str | None:
        state = self._state()
        dep = state["deployments"].get(f"{namespace}/{name}")
        if dep is None:
            return None
        serving: dict[str, str] = dep.get("serving") or dep["containers"]
        return serving[sorted(serving)[0]]

    def behaviour(self, image: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._state().get("http", {}).get(image)
        return found


class SmokeHandler(BaseHTTPRequestHandler):
    server: SmokeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: str, version: str = "") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        if version:
            self.send_header("X-Version", version)
        self.end_headers()
        self.wfile.write(data)

    def _raw_answer(self, behaviour: dict[str, Any], body: str) -> None:
        """Write the answer byte by byte, ``drip`` seconds apart, status line as given."""
        status_line = behaviour.get("status_line", "HTTP/1.1 200 OK")
        headers = [f"Content-Length: {len(body)}", "Connection: close"]
        if "redirect" in behaviour:
            status_line = "HTTP/1.1 302 Found"
            headers.append(f"Location: {behaviour['redirect']}")
        raw = "\r\n".join([status_line, *headers, "", body]).encode("latin-1")
        self.close_connection = True
        try:
            for index in range(len(raw)):
                self.wfile.write(raw[index : index + 1])
                self.wfile.flush()
                time.sleep(float(behaviour.get("drip", 0)))
        except OSError:  # the client gave up
            pass

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        image = self.server.serving_image(*parts) if len(parts) == 2 else None
        behaviour = self.server.behaviour(image) if image else None
        if image is None or behaviour is None:
            self._answer(404, f"no behaviour for {image}\n")
            return
        with self.server.lock:
            self.server.hits[image] += 1
            hit = self.server.hits[image]
        time.sleep(float(behaviour.get("delay", 0)))
        if hit <= int(behaviour.get("fail_first", 0)):
            self._answer(503, "warming up\n")
            return
        version = str(behaviour.get("version", image.rpartition(":")[2]))
        where = behaviour.get("version_in", "both")
        body = f"ok version={version}\n" if where in ("body", "both") else "ok\n"
        if {"status_line", "redirect", "drip"} & behaviour.keys():
            self._raw_answer(behaviour, body)
            return
        header = version if where in ("header", "both") else ""
        self._answer(int(behaviour.get("status", 200)), body, header)


def start_server(state_path: str) -> SmokeServer:
    server = SmokeServer(state_path)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("state")
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    server = SmokeServer(args.state)
    with open(args.port_file, "w", encoding="utf-8") as handle:
        handle.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
    sys.exit(0)
