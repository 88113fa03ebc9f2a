#!/usr/bin/env python3
"""A sandbox for the deploy engine: a kubectl simulator on PATH and its state file.

Used by the engine tests, the act tests and the self-test workflow alike:
``python3 tests/support/sandbox.py DIR`` writes DIR/bin/kubectl and DIR/state.json with the
scenario Deployments below (DEFAULT_STATE) and prints DIR/bin, for PATH.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUPPORT = Path(__file__).resolve().parent
REGISTRY = "ghcr.io/acme/api"
GOOD = f"{REGISTRY}:v1"


SAFE_STRATEGY = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
READINESS = {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 5}


def deployment(image: str = GOOD, container: str = "api", **spec: Any) -> dict[str, Any]:
    """A Deployment that passes the preflight: two replicas, a rollout that keeps capacity,
    a readiness probe; ``spec`` overrides (``paused``, ``revisionHistoryLimit``, …)."""
    return {
        "containers": {container: image},
        "serving": {container: image},
        "revision": 1,
        "history": [{"revision": 1, "containers": {container: image}}],
        "replicas": 2,
        "strategy": SAFE_STRATEGY,
        "revisionHistoryLimit": 10,
        "probes": {container: READINESS},
        **spec,
    }


def image(tag: str) -> str:
    return f"{REGISTRY}:{tag}"


# Images named after what they do once live; every scenario starts from GOOD.
DEFAULT_HTTP: dict[str, dict[str, Any]] = {
    GOOD: {},
    image("v2"): {},
    image("broken"): {"status": 500},
    image("slow"): {"delay": 3},
    image("flaky"): {"fail_first": 2},
    image("wrong-version"): {"version": "0000000"},
    image("header-version"): {"version_in": "header"},
    image("never-ready"): {},
}


def default_state(namespaces: list[str]) -> dict[str, Any]:
    return {
        "deployments": {f"{ns}/api": deployment() for ns in namespaces},
        "never_ready": [image("never-ready")],
        "http": DEFAULT_HTTP,
        "calls": [],
    }


@dataclass
class SandboxDir:
    """A directory written by write_sandbox: the simulator's bin/ and its state file."""

    directory: Path
    bin_dir: Path

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def state(self) -> dict[str, Any]:
        """Read under the simulator's lock: a kubectl of a running step may be writing."""
        with self.state_path.open(encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)  # the simulator rewrites it under LOCK_EX
            loaded: dict[str, Any] = json.load(handle)
        return loaded

    def save(self, state: dict[str, Any]) -> None:
        self.state_path.write_text(json.dumps(state), encoding="utf-8")


def write_sandbox(directory: Path, state: dict[str, Any], python: str = sys.executable) -> Path:
    """Write the state file and a ``kubectl`` shim; return the bin directory for PATH."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    (directory / "state.json").write_text(json.dumps(state, indent=1), encoding="utf-8")
    shim = bin_dir / "kubectl"
    simulator = SUPPORT / "kubectl_sim.py"
    state_path = directory / "state.json"
    shim.write_text(
        f"#!/bin/sh\nKUBECTL_SIM_STATE='{state_path}' exec '{python}' '{simulator}' \"$@\"\n",
        encoding="utf-8",
    )
    os.chmod(shim, 0o755)
    return bin_dir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--namespace", action="append", default=[])
    args = parser.parse_args()
    print(write_sandbox(args.directory, default_state(args.namespace or ["default"])))


if __name__ == "__main__":
    main()
