"""What the site templates need beyond the model: each environment's job in cd.yml."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdgen.render import gh
from cdgen.site_model import SWITCH_TIMEOUT, SiteEnvironment, SitePipeline

# The workflow artifact holding the site built once (Cloudflare Pages).
ARTIFACT = "cdgen-site"
# Template of each generated file of a site, in place of an image's.
SITE_TEMPLATES = {
    "cd.yml.j2": "site-cd.yml.j2",
    "ci.yml.j2": "site-ci.yml.j2",
    "rollback.yml.j2": "site-rollback.yml.j2",
}


@dataclass(frozen=True)
class SiteStage:
    """One environment's job in cd.yml."""

    env: SiteEnvironment
    title: str
    step: str
    needs: tuple[str, ...]
    image: str  # Vercel: the deployment it tests or promotes ("": it makes one)
    own_url: bool  # the smoke test and the tests go to the deployment's own URL
    create_first: bool  # Vercel, one environment: make the deployment, then promote it

    @property
    def url(self) -> str:
        """The environment's URL on GitHub: its domain, or the deployment's own URL."""
        return self.env.url or gh("steps.deploy.outputs.deployed-image")

    @property
    def base_url(self) -> str:
        return self.url


def site_context(pipeline: SitePipeline) -> dict[str, Any]:
    return {
        "site": pipeline.site,
        "stages": plan_site_stages(pipeline),
        "rollback_environments": [e for e in pipeline.environments if e.rollback_possible],
        "artifact": ARTIFACT,
        "switch_timeout": SWITCH_TIMEOUT,
    }


def plan_site_stages(pipeline: SitePipeline) -> list[SiteStage]:
    stages: list[SiteStage] = []
    vercel = pipeline.site.vercel
    previous: str | None = None
    for env in pipeline.environments:
        needs = ([] if vercel else ["build"]) + ([previous] if previous else [])
        create_first = vercel and env.builds and env.production
        image = ""
        if vercel and create_first:
            image = gh("steps.create.outputs.deployed-image")
        elif vercel and previous:
            image = gh(f"needs.{previous}.outputs.deployment")
        stages.append(
            SiteStage(
                env=env,
                title=_title(env),
                step=_step(env, vercel, bool(image)),
                needs=tuple(needs),
                image=image,
                own_url=vercel and not env.production,
                create_first=create_first,
            )
        )
        previous = f"deploy-{env.name}"
    return stages


def _title(env: SiteEnvironment) -> str:
    tests = " and run its end-to-end tests" if env.e2e else ""
    if env.builds:
        return f"build the site once, deploy {env.name}{tests}"
    return f"deploy {env.name}{tests}"


def _step(env: SiteEnvironment, vercel: bool, given: bool) -> str:
    if not vercel:
        upload = "production" if env.production else f"branch {env.branch} (a preview)"
        return f"Upload the built site to {upload}, verify, roll back on failure"
    if env.production:
        return "Promote the tested deployment, verify, roll back on failure"
    if given:
        return "Test the deployment at its own URL"
    return "Deploy the prebuilt site (no domain serves it yet), test it at its own URL"
