"""The pipeline model of a static site (`site:` instead of `image:`), defaults resolved."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cdgen.deploy.site.clis import CLI_PINS, UPLOAD_SECONDS, CliPin
from cdgen.model import (
    E2E,
    SETUP_SECONDS,
    Action,
    Generator,
    Smoke,
    build_e2e,
    build_smoke,
    seconds,
)
from cdgen.resources import schema_defaults

VERCEL = "vercel"
CLOUDFLARE_PAGES = "cloudflare-pages"
DEFAULT_TOKEN_SECRETS = {VERCEL: "VERCEL_TOKEN", CLOUDFLARE_PAGES: "CLOUDFLARE_API_TOKEN"}
# What the engine gives the provider's CLI for each switch of the live deployment (a
# promotion, a rollback); for the upload, UPLOAD_SECONDS.
SWITCH_TIMEOUT = "5m"
# The build in the job that builds (Vercel's first environment; Cloudflare's build job).
BUILD_MINUTES = 30


@dataclass(frozen=True)
class Site:
    provider: str
    project: str
    org_id: str | None  # Vercel
    account_id: str | None  # Cloudflare Pages
    token_secret: str
    bypass_secret: str | None  # Vercel
    install: str
    build: str
    output: str
    node_version: str
    cli: CliPin
    cli_version: str
    production_branch: str  # Cloudflare Pages

    @property
    def vercel(self) -> bool:
        return self.provider == VERCEL

    @property
    def cli_spec(self) -> str:
        """`vercel@58.4.4`: what `npx --yes` runs."""
        return self.cli.spec(self.cli_version)

    @property
    def account(self) -> str:
        """The owner the action is given: Vercel's org ID or Cloudflare's account ID."""
        return (self.org_id if self.vercel else self.account_id) or ""


@dataclass(frozen=True)
class SiteEnvironment:
    name: str
    url: str | None  # None: a Vercel environment before the last (the deployment's own URL)
    approval: str
    smoke: Smoke | None
    e2e: E2E | None
    branch: str | None  # Cloudflare Pages: the branch it deploys to
    production: bool  # its deploys are what the project's production serves
    builds: bool  # Vercel's first environment: builds and creates the deployment
    runs_on: str | None = None  # a self-hosted runner's label

    @property
    def smoke_url(self) -> str:
        """Where the smoke test goes: the environment's URL, or (no URL) a path on the new
        deployment's own URL, which the action resolves."""
        if not self.smoke:
            return ""
        return (self.url or "").rstrip("/") + self.smoke.path

    @property
    def rollback_possible(self) -> bool:
        """Only what the project's production serves can be rolled back: Vercel's promoted
        deployment, Cloudflare's production deployment. A preview has nothing to return to."""
        return self.production

    @property
    def deploy_minutes(self) -> int:
        """One deploy step: the upload or the switch, its rollback, and the smoke test."""
        switch = seconds(SWITCH_TIMEOUT)
        smoke = self.smoke.worst_seconds if self.smoke else 0
        return math.ceil((UPLOAD_SECONDS + 2 * switch + smoke + 300) / 60)

    @property
    def job_minutes(self) -> int:
        """The environment's job: (the build,) the deploy, and with e2e the tests and a
        rollback after them."""
        minutes = self.deploy_minutes + (BUILD_MINUTES if self.builds else 0)
        if self.e2e:
            minutes += self.deploy_minutes + self.e2e.step_minutes + math.ceil(SETUP_SECONDS / 60)
        return minutes


@dataclass(frozen=True)
class SitePipeline:
    name: str
    branch: str
    site: Site
    environments: tuple[SiteEnvironment, ...]
    action: Action
    generator: Generator
    unmanaged: frozenset[str] = frozenset()
    metrics: bool = True

    @property
    def production(self) -> SiteEnvironment | None:
        return next((env for env in self.environments if env.production), None)

    @property
    def runner_labels(self) -> list[str]:
        """The self-hosted runner labels the environments name, sorted, once each."""
        return sorted({e.runs_on for e in self.environments if e.runs_on})


def build_site_pipeline(data: Any, action: Action, generator: Generator) -> SitePipeline:
    """The model of a validated descriptor with `site:`."""
    site = build_site(data["site"])
    raw_environments = list(data["environments"])
    environments = tuple(
        _build_environment(raw, site, index, len(raw_environments))
        for index, raw in enumerate(raw_environments)
    )
    return SitePipeline(
        name=str(data["name"]),
        branch=str(data.get("branch", schema_defaults()["branch"])),
        site=site,
        environments=environments,
        action=action,
        generator=generator,
        unmanaged=frozenset(str(p) for p in data.get("unmanaged") or ()),
        metrics=bool(data.get("metrics", schema_defaults()["metrics"])),
    )


def build_site(raw: dict[str, Any]) -> Site:
    d = {**schema_defaults("site"), **raw}
    provider = str(d["provider"])
    cli = CLI_PINS[provider]
    return Site(
        provider=provider,
        project=str(d["project"]),
        org_id=d["org-id"],
        account_id=d["account-id"],
        token_secret=str(d["token-secret"] or DEFAULT_TOKEN_SECRETS[provider]),
        bypass_secret=d["protection-bypass-secret"],
        install=str(d["install"]),
        build=str(d["build"]),
        output=str(d["output"]),
        node_version=str(d["node-version"]),
        cli=cli,
        cli_version=str(d["cli-version"] or cli.version),
        production_branch=str(d["production-branch"]),
    )


def environment_branch(raw: dict[str, Any], site: Site, last: bool) -> str:
    """Cloudflare Pages: the branch an environment deploys to (the production branch for the
    last environment, its own name for the others, unless it says)."""
    given = (raw.get("site") or {}).get("branch")
    if given:
        return str(given)
    return site.production_branch if last else str(raw["name"])


def _build_environment(raw: dict[str, Any], site: Site, index: int, count: int) -> SiteEnvironment:
    d = {**schema_defaults("environments", "[]"), **raw}
    last = index == count - 1
    branch = None if site.vercel else environment_branch(raw, site, last)
    production = last if site.vercel else branch == site.production_branch
    return SiteEnvironment(
        name=str(d["name"]),
        url=str(d["url"]) if d.get("url") else None,
        approval=str(d["approval"]),
        smoke=build_smoke(raw),
        e2e=build_e2e(raw),
        branch=branch,
        production=production,
        builds=site.vercel and index == 0,
        runs_on=d["runs-on"],
    )
