"""`cdgen init` on a static site: a package.json with a `build` script, no Dockerfile, and
Vercel's or Cloudflare's configuration; the right provider is offered, what `vercel link` or
wrangler's configuration says is taken, and the result validates and generates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.init_repos import git_init, write
from typer.testing import CliRunner

from cdgen.cli import app, main
from cdgen.init import questions_for
from cdgen.init.detect import detect_repository

runner = CliRunner()


def _site(root: Path, scripts: dict[str, str] | None = None) -> Path:
    git_init(root, "https://github.com/acme/web.git")
    package = {"name": "web", "scripts": scripts or {"build": "vite build", "test:e2e": "x"}}
    write(root, "package.json", json.dumps(package))
    return root


def _link(root: Path) -> None:
    link = {"projectId": "prj_AbC123", "orgId": "team_XyZ789"}
    write(root, ".vercel/project.json", json.dumps(link))


def test_vercel_is_offered_with_what_vercel_link_wrote(tmp_path: Path) -> None:
    root = _site(tmp_path / "web")
    write(root, "vercel.json", "{}")
    _link(root)
    found = detect_repository(root)
    assert found.site is not None
    assert (found.site.provider, found.site.project, found.site.org_id) == (
        "vercel",
        "prj_AbC123",
        "team_XyZ789",
    )
    assert not [note for note in found.notes if "Dockerfile" in note]
    defaults = {
        q.key: q.default
        for q in questions_for(found)
        if q.when != ("site.provider", "cloudflare-pages")
    }
    assert defaults["site.provider"] == "vercel"
    assert defaults["site.project"] == "prj_AbC123"


def test_cloudflare_pages_is_offered_with_wranglers_project_and_output(tmp_path: Path) -> None:
    root = _site(tmp_path / "docs", {"build": "astro build"})
    write(root, "pnpm-lock.yaml", "")
    write(root, "wrangler.toml", 'name = "acme-docs"\npages_build_output_dir = "./public/out/"\n')
    site = detect_repository(root).site
    assert site is not None
    assert (site.provider, site.project, site.output) == (
        "cloudflare-pages",
        "acme-docs",
        "public/out",
    )
    assert site.install == "corepack enable && pnpm install --frozen-lockfile"
    assert site.build == "pnpm run build"


@pytest.mark.parametrize(
    ("files", "why"),
    [
        ({"Dockerfile": "FROM nginx\n", "vercel.json": "{}"}, "a Dockerfile: an image"),
        ({"vercel.json": "{}"}, "no build script"),
        ({}, "no provider's configuration"),
    ],
)
def test_anything_else_is_no_site(tmp_path: Path, files: dict[str, str], why: str) -> None:
    scripts = {"test": "vitest"} if why == "no build script" else None
    root = _site(tmp_path / "x", scripts)
    for name, text in files.items():
        write(root, name, text)
    assert detect_repository(root).site is None, why


def test_init_yes_on_a_vercel_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _site(tmp_path / "web")
    write(root, "vercel.json", "{}")
    _link(root)
    monkeypatch.chdir(root)
    result = runner.invoke(app, ["init", "--yes"])
    assert result.exit_code == 0, result.output
    descriptor = YAML(typ="safe").load((root / "cdgen.yml").read_text())
    assert descriptor["site"] == {
        "provider": "vercel",
        "project": "prj_AbC123",
        "org-id": "team_XyZ789",
        "install": "npm ci",
        "build": "npm run build",
    }
    staging, production = descriptor["environments"]
    assert "url" not in staging and staging["e2e"] == {"run": "npm run test:e2e"}
    assert production["url"] == "https://web.vercel.app"
    assert "gh secret set VERCEL_TOKEN --env production --repo acme/web" in result.output
    assert '"$VERCEL_CLI" build --prod' in (root / ".github/workflows/cd.yml").read_text()
    assert main(["check"]) == 0


def test_init_yes_on_a_cloudflare_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _site(tmp_path / "docs", {"build": "astro build"})
    write(root, "wrangler.toml", 'name = "acme-docs"\n')
    monkeypatch.chdir(root)
    result = runner.invoke(app, ["init", "--yes"])
    assert result.exit_code == 0, result.output
    descriptor = YAML(typ="safe").load((root / "cdgen.yml").read_text())
    assert descriptor["site"]["project"] == "acme-docs"
    assert descriptor["site"]["account-id"] == "0" * 32
    assert (
        'account-id: "00000000000000000000000000000000"  # placeholder: set it'
        in (root / "cdgen.yml").read_text()
    )
    assert [env["url"] for env in descriptor["environments"]] == [
        "https://staging.acme-docs.pages.dev",
        "https://acme-docs.pages.dev",
    ]
    assert descriptor["site"]["production-branch"] == descriptor["branch"]
    assert "npx wrangler pages project create acme-docs --production-branch" in result.output
    assert main(["check"]) == 0


def test_answering_the_other_provider_asks_that_providers_settings(tmp_path: Path) -> None:
    root = _site(tmp_path / "web")
    write(root, "vercel.json", "{}")
    answers = "\n".join(
        [
            "",  # name
            "main",  # branch
            "cloudflare-pages",  # not the Vercel that was detected
            "acme-web",  # Cloudflare's project name (Vercel's questions are not asked)
            "023e105f4ecef8ad9ca31a8372d0c353",
            "",  # staging URL: its default
            "https://web.example.com",
            "/health",
            "none",
        ]
    )
    result = runner.invoke(app, ["init", str(root)], input=answers + "\n")
    assert result.exit_code == 0, result.output
    assert "Vercel project ID" not in result.output
    descriptor = YAML(typ="safe").load((root / "cdgen.yml").read_text())
    assert descriptor["site"]["provider"] == "cloudflare-pages"
    assert descriptor["site"]["account-id"] == "023e105f4ecef8ad9ca31a8372d0c353"
    assert descriptor["environments"][1]["url"] == "https://web.example.com"
    assert descriptor["environments"][1]["approval"] == "none"
