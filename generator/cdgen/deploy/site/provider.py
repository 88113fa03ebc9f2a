"""What the site engine asks of a hosting provider, whichever it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit


class ProviderError(Exception):
    """A provider's CLI or API did not do what was asked; ``output`` is what it said."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


@dataclass(frozen=True)
class Deployment:
    """A deployment as the engine names it (``ident``: Vercel's URL, Cloudflare's ID), the
    URL it answers at, and any other name it has (Vercel's ``dpl_`` ID)."""

    ident: str
    url: str
    aliases: tuple[str, ...] = ()

    def is_named(self, name: str) -> bool:
        wanted = _key(name)
        return any(_key(own) == wanted for own in (self.ident, self.url, *self.aliases) if own)


def _key(name: str) -> str:
    """A URL compared by its host (``https://a.vercel.app/`` is ``a.vercel.app``)."""
    if name.startswith("https://"):
        return (urlsplit(name).hostname or name).lower()
    return name


class Provider(Protocol):
    # Whether this environment's live deployment can be read and switched back: production
    # (Vercel's promoted deployment, Cloudflare's production branch). A preview cannot.
    switchable: bool

    def prepare(self) -> None:
        """Everything that can fail before a change: the CLI, the project. Raises."""

    def live(self, *, urgent: bool = False) -> Deployment | None:
        """The deployment serving this environment now (None: nothing reads it). Raises."""

    def deploy(self, commit: str) -> Deployment:
        """Create the new deployment (Vercel: from the prebuilt output; Cloudflare: upload
        the built files to the branch). Raises."""

    def promote(self, ident: str) -> None:
        """Serve an existing deployment: the deploy of an image that passed before. Raises."""

    def rollback(self, ident: str, *, urgent: bool = False) -> None:
        """Serve an earlier production deployment again. Raises."""

    def undo_rollback(self, ident: str, *, urgent: bool = False) -> None:
        """Serve again the deployment a rollback replaced. Raises."""
