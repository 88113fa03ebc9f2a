"""A site deploy from its checked options: the provider, its pinned CLI, the engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from cdgen.deploy.console import Console
from cdgen.deploy.options import Options
from cdgen.deploy.records import Records
from cdgen.deploy.site.cloudflare import CloudflarePages
from cdgen.deploy.site.cloudflare_api import API_URL, CloudflareApi
from cdgen.deploy.site.engine import SiteEngine
from cdgen.deploy.site.npx import Npx
from cdgen.deploy.site.provider import Provider
from cdgen.deploy.site.target import SiteOptions
from cdgen.deploy.site.vercel import Vercel

# The command that makes production serve a deployment again, for a report to show.
Manual = Callable[[str], str]


def production_host(options: Options) -> str:
    """The domain Vercel's production serves: the environment's URL (or the smoke test's)."""
    for url in (options.recording.environment_url, options.smoke_url):
        if url.startswith(("https://", "http://")):
            return urlsplit(url).hostname or ""
    return ""


def build_site_engine(
    options: Options, console: Console, records: Records | None, environ: Mapping[str, str]
) -> SiteEngine:
    """The engine of a site deploy (`options.site` is set)."""
    site = options.site
    if site is None:
        raise ValueError("not a site deploy")
    console.add_secrets([site.token, site.bypass])
    npx = Npx(site.cli, environ, _credentials(site))
    npx.announce = lambda command: console.info("$ " + " ".join(command))
    if site.vercel:
        provider, manual = _vercel(options, site, npx)
    else:
        # CLOUDFLARE_API_BASE_URL, which wrangler reads too; checked before any request.
        api_url = environ.get("CLOUDFLARE_API_BASE_URL") or API_URL
        provider, manual = _cloudflare(site, api_url, npx, environ.get("RUNNER_TEMP") or None)
    return SiteEngine(options, provider, console, records=records, manual=manual)


def _credentials(site: SiteOptions) -> dict[str, str]:
    """What each CLI reads its credentials and project from: never its command line."""
    if site.vercel:
        return {
            "VERCEL_TOKEN": site.token,
            "VERCEL_ORG_ID": site.account,
            "VERCEL_PROJECT_ID": site.project,
        }
    return {"CLOUDFLARE_API_TOKEN": site.token, "CLOUDFLARE_ACCOUNT_ID": site.account}


def _vercel(options: Options, site: SiteOptions, npx: Npx) -> tuple[Provider, Manual]:
    host = production_host(options) if site.production else ""
    provider = Vercel(npx, site.account, host, options.rollout_timeout)
    scope = f" --scope {site.account}" if site.account.startswith("team_") else ""

    def manual(ident: str) -> str:
        return f"VERCEL_TOKEN=<token> npx --yes {site.cli} rollback {ident}{scope}"

    return provider, manual


def _cloudflare(
    site: SiteOptions, api_url: str, npx: Npx, temp: str | None
) -> tuple[Provider, Manual]:
    api = CloudflareApi(api_url, site.account, site.project, site.token)
    provider = CloudflarePages(npx, api, site.directory, site.branch, temp)

    def manual(ident: str) -> str:
        return (
            'curl -X POST -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" '
            f"{api.base}/deployments/{ident}/rollback"
        )

    return provider, manual
