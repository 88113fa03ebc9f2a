"""Detecting a static site for `cdgen init`: a package.json with a `build` script, no
Dockerfile, and the configuration of Vercel (`vercel.json`, or `.vercel/project.json` from
`vercel link`) or of Cloudflare Pages (`wrangler.toml`, `wrangler.json` or
`wrangler.jsonc`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdgen import rules
from cdgen.init.reading import load_json, load_toml, read_text

VERCEL, CLOUDFLARE_PAGES = "vercel", "cloudflare-pages"
_VERCEL_FILES = ("vercel.json", ".vercel/project.json")
_WRANGLER_FILES = ("wrangler.toml", "wrangler.json", "wrangler.jsonc")
# Runners have npm and yarn; pnpm comes through corepack, at package.json's packageManager.
_INSTALL = {
    "npm": "npm ci",
    "pnpm": "corepack enable && pnpm install --frozen-lockfile",
    "yarn": "yarn install --frozen-lockfile",
}


@dataclass(frozen=True)
class SiteHint:
    provider: str  # the provider whose configuration was found (Vercel first)
    project: str | None  # Vercel's project ID (from `vercel link`), or Cloudflare's name
    org_id: str | None  # Vercel: the project's owner (from `vercel link`)
    output: str | None  # Cloudflare Pages: pages_build_output_dir
    install: str
    build: str


def detect_site(root: Path, runner: str, builds: bool, notes: list[str]) -> SiteHint | None:
    """The site `root` holds, or None. `runner` is the package manager of its package.json,
    `builds` whether that has a `build` script."""
    if not builds:
        return None
    vercel = [name for name in _VERCEL_FILES if (root / name).is_file()]
    wrangler = [name for name in _WRANGLER_FILES if (root / name).is_file()]
    if not vercel and not wrangler:
        return None
    if vercel and wrangler:
        notes.append(
            f"Both {vercel[0]} and {wrangler[0]} found: offering Vercel; answer "
            "cloudflare-pages to deploy to Cloudflare Pages instead."
        )
    install, build = _INSTALL[runner], f"{runner} run build"
    if vercel:
        project, org = _vercel_link(root, notes)
        return SiteHint(VERCEL, project, org, None, install, build)
    project, output = _wrangler_config(root, wrangler[0], notes)
    return SiteHint(CLOUDFLARE_PAGES, project, None, output, install, build)


def _vercel_link(root: Path, notes: list[str]) -> tuple[str | None, str | None]:
    """The project and owner IDs `vercel link` wrote, when they are usable."""
    path = root / ".vercel" / "project.json"
    if not path.is_file():
        return None, None
    text = read_text(path, notes, ".vercel/project.json")
    data = load_json(text, ".vercel/project.json", notes) if text is not None else None
    if not isinstance(data, dict):
        return None, None
    project, org = data.get("projectId"), data.get("orgId")
    usable = isinstance(project, str) and rules.is_valid("site-project", project)
    owner = isinstance(org, str) and rules.is_valid("org-id", org)
    return (project if usable else None), (org if owner else None)


def _wrangler_config(root: Path, name: str, notes: list[str]) -> tuple[str | None, str | None]:
    """A Pages project's name and output directory from its wrangler configuration."""
    text = read_text(root / name, notes, name)
    if text is None:
        return None, None
    if name.endswith(".toml"):
        data: Any = load_toml(text, name, notes)
    elif name.endswith(".json"):
        data = load_json(text, name, notes)
    else:
        notes.append(f"{name}: JSON with comments is not read; set site.project and site.output.")
        return None, None
    if not isinstance(data, dict):
        return None, None
    project, output = data.get("name"), data.get("pages_build_output_dir")
    if isinstance(output, str):
        output = output.removeprefix("./").rstrip("/") or "."
    usable = isinstance(project, str) and rules.is_valid("site-project", project)
    good_output = isinstance(output, str) and rules.is_valid("path", output)
    return (project if usable else None), (output if good_output else None)
