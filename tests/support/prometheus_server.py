"""A real Prometheus server (Debian's ``prometheus`` package) for the canary analysis tests:
started from its binary with a temporary config and data directory, on a free loopback port,
scraping the given targets every SCRAPE_INTERVAL. Not a system service: each test gets its
own, stopped afterwards.

Where the binary is missing the tests fail with the command that installs it (``./dev
setup`` runs it where apt is available); they never skip.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTALL = "apt-get update && apt-get install -y --no-install-recommends prometheus"
SCRAPE_INTERVAL = "250ms"


class PrometheusMissing(Exception):
    pass


def prometheus_binary() -> str:
    found = shutil.which("prometheus")
    if found is None:
        raise PrometheusMissing(
            f"the canary analysis tests need a real Prometheus: install it with `{INSTALL}` "
            "(./dev setup does it where apt is available)"
        )
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def write_config(directory: Path, targets: list[str]) -> Path:
    config = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": SCRAPE_INTERVAL},
        "scrape_configs": [{"job_name": "app", "static_configs": [{"targets": targets}]}],
    }
    path = directory / "prometheus.yml"
    path.write_text(json.dumps(config, indent=1), encoding="utf-8")  # JSON is YAML
    return path


@dataclass
class Prometheus:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def query(self, expression: str) -> Any:
        data = urllib.parse.urlencode({"query": expression}).encode()
        with urllib.request.urlopen(f"{self.url}/api/v1/query", data, timeout=5) as answer:
            return json.loads(answer.read())["data"]["result"]

    def wait_for(self, expression: str, timeout: float = 20) -> None:
        """Until ``expression`` has a result: the first scrapes are in."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.query(expression):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(
            f"{expression} gave nothing within {timeout}s:\n{self.log.read_text()}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_prometheus(directory: Path, targets: list[str]) -> Prometheus:
    """Start Prometheus and wait until it is ready and has scraped every target once."""
    binary = prometheus_binary()
    directory.mkdir(parents=True, exist_ok=True)
    config = write_config(directory, targets)
    for _attempt in range(3):  # the free port may be taken between the probe and the bind
        port = free_port()
        log = directory / f"prometheus-{port}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={directory / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--log.level=warn",
                ],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        server = Prometheus(process, f"http://127.0.0.1:{port}", log)
        if _ready(server):
            server.wait_for('up{job="app"} == 1')
            return server
        server.stop()
    raise AssertionError(f"Prometheus did not start:\n{log.read_text()}")


def _ready(server: Prometheus, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False
