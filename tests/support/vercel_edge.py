"""Vercel's edge, for a site lab: a deployment's own https URL answered locally.

A deployment's URL (``https://web-2.vercel.app``) names a host no test can reach, so the
smoke test (and the end-to-end tests) go through this HTTPS proxy (``https_proxy``): it takes
the ``CONNECT`` to a ``*.vercel.app`` host, answers the TLS handshake with a certificate for
``*.vercel.app`` from a CA made for the session (``SSL_CERT_FILE`` makes clients trust it),
and serves the file the deployment of that host holds in the lab's state, 404 otherwise. A
request without the project's bypass secret, when the lab asks for one, answers 401, as
Vercel's Deployment Protection does.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from support.site_state import SiteState


@dataclass(frozen=True)
class Certificates:
    ca: Path  # what clients trust (SSL_CERT_FILE)
    chain: Path  # the *.vercel.app certificate
    key: Path


def make_certificates(directory: Path) -> Certificates:
    """A CA and a certificate for *.vercel.app it signed, with the openssl command."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    site, key, request = directory / "site.pem", directory / "site.key", directory / "site.csr"
    extensions = directory / "site.ext"
    extensions.write_text(
        "subjectAltName=DNS:*.vercel.app\nextendedKeyUsage=serverAuth\n", encoding="utf-8"
    )
    commands = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
         "-days", "2", "-subj", "/CN=cdgen test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request,
         "-subj", "/CN=*.vercel.app"],
        ["x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", site, "-days", "2", "-extfile", extensions],
    ]  # fmt: skip
    for command in commands:
        subprocess.run(["openssl", *map(str, command)], check=True, capture_output=True)
    return Certificates(ca, site, key)


class VercelEdge(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: SiteState, certificates: Certificates) -> None:
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self.state = state
        self.ca = certificates.ca  # what a client of the edge trusts (SSL_CERT_FILE)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(certificates.chain, certificates.key)
        self.bypass = ""  # the secret Deployment Protection wants ("": none)
        self.seen: list[tuple[str, str, str]] = []  # host, path, bypass header given

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Tunnel(BaseHTTPRequestHandler):
    server: VercelEdge

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_CONNECT(self) -> None:
        host, _, port = self.path.partition(":")
        if not host.endswith(".vercel.app") or port != "443":
            self.send_error(403, "only *.vercel.app:443")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        try:
            with self.server.tls.wrap_socket(self.connection, server_side=True) as tls:
                self._serve(tls, host)
        except (ssl.SSLError, OSError):
            pass
        self.close_connection = True

    def _serve(self, tls: ssl.SSLSocket, host: str) -> None:
        reader = tls.makefile("rb")
        request = reader.readline().decode("latin-1").split()
        headers: dict[str, str] = {}
        while (line := reader.readline().decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        path = request[1] if len(request) > 1 else "/"
        given = headers.get("x-vercel-protection-bypass", "")
        self.server.seen.append((host, path, given))
        found = self.server.state.read()["vercel"]["deployments"].get(host) or {}
        files = found.get("files", {})
        if self.server.bypass and given != self.server.bypass:
            status, body = "401 Unauthorized", b"Authentication Required"
        elif path in files:
            status, body = "200 OK", files[path].encode()
        else:
            status, body = "404 Not Found", b"404: NOT_FOUND"
        head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        tls.sendall(head.encode() + body)
        tls.shutdown(socket.SHUT_RDWR)


def start_edge(state: SiteState, certificates: Certificates) -> VercelEdge:
    edge = VercelEdge(state, certificates)
    threading.Thread(target=edge.serve_forever, daemon=True).start()
    return edge
