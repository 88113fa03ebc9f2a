"""What a site deploy is aimed at: the provider, its project, and how it is reached."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdgen.deploy.site.clis import CLI_PINS

VERCEL = "vercel"
CLOUDFLARE_PAGES = "cloudflare-pages"


@dataclass(frozen=True)
class SiteOptions:
    provider: str
    project: str
    account: str
    cli_version: str
    directory: str  # Cloudflare Pages: the built files to upload
    branch: str  # Cloudflare Pages: the branch the deployment is for
    production: bool  # Vercel: this environment serves the project's production domains
    token: str = field(default="", repr=False)
    bypass: str = field(default="", repr=False)  # Vercel: Protection Bypass for Automation

    @property
    def vercel(self) -> bool:
        return self.provider == VERCEL

    @property
    def cli(self) -> str:
        """``vercel@58.4.4``: the exact CLI ``npx`` runs."""
        return CLI_PINS[self.provider].spec(self.cli_version)
