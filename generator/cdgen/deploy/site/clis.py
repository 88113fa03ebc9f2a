"""The provider CLIs a site deploy runs, each pinned to one exact release.

The generated workflows and the engine run them with ``npx --yes <package>@<version>``:
never an unpinned install. ``tag`` and ``commit`` name that release in the CLI's own
repository (its tag and the commit the tag points to), which ``tools/check_pins.py`` checks
online, as it checks the actions' pins; ``node`` is the least Node.js major version its
``package.json`` ``engines`` accepts. To move a pin, change ``version``, ``tag`` and
``commit`` together and re-read ``engines`` at the new tag.
"""

from __future__ import annotations

from dataclasses import dataclass

# The longest the engine lets a CLI upload (Cloudflare Pages' files, Vercel's prebuilt
# output); the generated jobs' timeouts are sized from it.
UPLOAD_SECONDS = 900


@dataclass(frozen=True)
class CliPin:
    package: str  # the npm package
    version: str
    repository: str  # owner/name on GitHub
    tag: str
    commit: str
    node: int

    def spec(self, version: str = "") -> str:
        """``package@version``, as ``npx`` takes it (another exact version when given)."""
        return f"{self.package}@{version or self.version}"


CLI_PINS: dict[str, CliPin] = {
    "vercel": CliPin(
        "vercel",
        "58.4.4",
        "vercel/vercel",
        "vercel@58.4.4",
        "6331571e2fe14de31a01d00deead9e7a349e53a6",
        18,
    ),
    "cloudflare-pages": CliPin(
        "wrangler",
        "4.125.0",
        "cloudflare/workers-sdk",
        "wrangler@4.125.0",
        "38b46238c57f0d85dc1334ce374ba709eab13749",
        22,
    ),
}
