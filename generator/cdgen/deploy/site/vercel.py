"""Vercel, through its CLI: deploy the prebuilt output as a production deployment that no
domain serves (``--skip-domain``), promote it, roll back to the deployment served before.

Only these commands run (the tests' stand-in accepts exactly these):
``--version``; ``deploy --prebuilt --prod --skip-domain``; ``inspect HOST --format=json``;
``promote URL --timeout=Ns``; ``rollback URL --timeout=Ns`` — the last three with
``--scope TEAM`` for a team's project. Never ``promote --yes``: promoting a deployment that
was not built for production would start a new build, and without ``--yes`` the CLI refuses.
"""

from __future__ import annotations

import json
import re

from cdgen.deploy.site.clis import UPLOAD_SECONDS
from cdgen.deploy.site.npx import CliResult, Npx
from cdgen.deploy.site.provider import Deployment, ProviderError

INSTALL_SECONDS = 300  # the first run of a pinned version downloads it
READ_SECONDS = 60
URGENT_SECONDS = 8  # a cancelled job is killed seconds later: ask, do not wait
_URL = re.compile(r"https://[A-Za-z0-9.-]+")


class Vercel:
    def __init__(self, npx: Npx, account: str, production_host: str, switch_seconds: int) -> None:
        self.npx = npx
        self.production_host = production_host  # the domain production serves
        self.switchable = bool(production_host)
        self.switch_seconds = switch_seconds
        # A team's deployments are found only in the team's scope; a user's in their own.
        self._scope = ["--scope", account] if account.startswith("team_") else []

    def _run(self, args: list[str], timeout: float, *, detach: bool = False) -> CliResult:
        return self.npx.run(args, timeout, detach=detach)

    def prepare(self) -> None:
        result = self._run(["--version"], INSTALL_SECONDS)
        if not result.ok:
            raise ProviderError(
                f"cannot run {self.npx.spec} (exit {result.returncode})", result.output
            )

    def live(self, *, urgent: bool = False) -> Deployment | None:
        if not self.production_host:
            return None
        timeout = URGENT_SECONDS if urgent else READ_SECONDS
        args = ["inspect", self.production_host, "--format=json", *self._scope]
        result = self._run(args, timeout)
        if not result.ok:
            raise ProviderError(
                f"cannot read which deployment {self.production_host} serves "
                f"(vercel inspect exit {result.returncode})",
                result.output,
            )
        try:
            found = json.loads(result.stdout)
            ident, host = str(found["id"]), str(found["url"])
        except (ValueError, KeyError, TypeError) as error:
            raise ProviderError(f"unexpected answer from vercel inspect: {error!r}") from None
        url = host if host.startswith("https://") else f"https://{host}"
        return Deployment(url, url, (ident,))

    def deploy(self, commit: str) -> Deployment:
        result = self._run(["deploy", "--prebuilt", "--prod", "--skip-domain"], UPLOAD_SECONDS)
        # stdout is the new deployment's URL, and nothing else.
        urls = [line.strip() for line in result.stdout.splitlines() if _URL.fullmatch(line.strip())]
        if not result.ok or not urls:
            raise ProviderError(
                f"vercel deploy failed (exit {result.returncode})"
                if not result.ok
                else "vercel deploy printed no deployment URL",
                result.output,
            )
        return Deployment(urls[-1], urls[-1])

    def _switch(self, verb: str, ident: str, urgent: bool) -> None:
        seconds = 0 if urgent else self.switch_seconds
        args = [verb, ident, f"--timeout={seconds}s", *self._scope]
        timeout = URGENT_SECONDS if urgent else self.switch_seconds + READ_SECONDS
        result = self._run(args, timeout, detach=urgent)
        if not result.ok:
            raise ProviderError(f"vercel {verb} failed (exit {result.returncode})", result.output)

    def promote(self, ident: str) -> None:
        self._switch("promote", ident, urgent=False)

    def rollback(self, ident: str, *, urgent: bool = False) -> None:
        self._switch("rollback", ident, urgent)

    def undo_rollback(self, ident: str, *, urgent: bool = False) -> None:
        # Vercel: "to undo a rollback, promote a deployment". Its own production deployment
        # promotes without a new build.
        self._switch("promote", ident, urgent)
