"""A site lab: the strict ``npx`` stand-in on PATH, its state, and the server of Cloudflare's
API fake and the live sites, shared by the site engine tests and the act runs."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdgen.deploy.site.clis import CLI_PINS
from support.site_server import SiteServer, start_site_server
from support.site_state import SiteState, default_state, vercel_deployment

SUPPORT = Path(__file__).resolve().parent
PINS = {pin.package: pin.version for pin in CLI_PINS.values()}


@dataclass
class SiteLab:
    directory: Path
    bin_dir: Path
    state: SiteState
    server: SiteServer

    def calls(self) -> list[list[str]]:
        """Each CLI call's arguments after ``npx --yes --prefer-offline PACKAGE@VERSION``."""
        return [call["argv"][3:] for call in self.state.read()["calls"]]

    def call_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = self.state.read()["calls"]
        return records

    def vercel_live(self) -> str:
        """The URL of the deployment Vercel's production serves."""
        return "https://" + str(self.state.read()["vercel"]["production"])

    def add_vercel(self, name: str, files: dict[str, str]) -> str:
        """A production deployment made before (no domain serves it yet); its URL."""
        made = vercel_deployment(name, files)
        with self.state.change() as state:
            state["vercel"]["deployments"][made["url"]] = made
        return "https://" + str(made["url"])

    def cloudflare_canonical(self) -> str:
        return str(self.state.read()["cloudflare"]["canonical"])

    def cloudflare_requests(self) -> list[str]:
        return [
            f"{r['method']} {r['path'].split('/pages/projects/', 1)[1]}"
            + (f"?{r['query']}" if r["query"] else "")
            for r in self.state.read()["cloudflare"]["requests"]
        ]

    def fail(self, provider: str, *what: str) -> None:
        with self.state.change() as state:
            state[provider]["fail"] = list(what)

    def env(self) -> dict[str, str]:
        """What a process needs to find the stand-ins and the lab."""
        return {
            "PATH": f"{self.bin_dir}:{os.environ['PATH']}",
            "SITE_LAB_STATE": str(self.state.path),
            "CLOUDFLARE_API_BASE_URL": self.server.api_url,
        }


def write_site_lab(directory: Path, production_host: str = "127.0.0.1") -> tuple[Path, Path]:
    """The state file and an ``npx`` shim running the stand-in; (bin dir, state file)."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    state_path = directory / "site-state.json"
    SiteState(state_path).write(default_state(PINS, production_host))
    shim = bin_dir / "npx"
    shim.write_text(
        f"#!/bin/sh\nexec '{sys.executable}' '{SUPPORT / 'standin_npx.py'}' \"$@\"\n",
        encoding="utf-8",
    )
    os.chmod(shim, 0o755)
    return bin_dir, state_path


def start_site_lab(directory: Path) -> SiteLab:
    bin_dir, state_path = write_site_lab(directory)
    return SiteLab(directory, bin_dir, SiteState(state_path), start_site_server(state_path))
