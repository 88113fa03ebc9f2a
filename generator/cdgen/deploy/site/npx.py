"""Running a provider's CLI at its pinned version: ``npx --yes --prefer-offline PKG@X ARGS``.

``--prefer-offline`` lets every run after the first use the copy npx keeps, so the rollback
of a deploy does not depend on the npm registry answering once more. The CLI gets its
credentials through its own environment variables, never on the command line, and none of
the engine's own inputs (the GitHub token among them).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

# Quiet, plain output and no usage reports from a CI job.
_CALM = {
    "NO_COLOR": "1",
    "FORCE_COLOR": "0",
    "VERCEL_TELEMETRY_DISABLED": "1",
    "WRANGLER_SEND_METRICS": "false",
}


@dataclass(frozen=True)
class CliResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        return (self.stdout + self.stderr).strip()


class Runner(Protocol):
    def __call__(
        self, args: list[str], env: dict[str, str], timeout: float, *, detach: bool = False
    ) -> CliResult: ...


def run_cli(
    args: list[str], env: dict[str, str], timeout: float, *, detach: bool = False
) -> CliResult:
    """Run without a shell; ``detach`` keeps a cancellation's signal from cutting it short."""
    try:
        done = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            env=env,
            timeout=timeout,
            check=False,
            start_new_session=detach,
        )
    except subprocess.TimeoutExpired:
        return CliResult(tuple(args), 124, "", f"{args[3]} did not finish within {timeout:.0f}s")
    except OSError as error:
        return CliResult(tuple(args), 127, "", f"could not run {args[0]}: {error.strerror}")
    return CliResult(tuple(args), done.returncode, done.stdout, done.stderr)


class Npx:
    """One pinned CLI (``vercel@58.4.4``), run with the provider's credentials."""

    def __init__(
        self,
        spec: str,
        environ: Mapping[str, str],
        credentials: Mapping[str, str],
        runner: Runner = run_cli,
    ) -> None:
        self.spec = spec
        kept = {k: v for k, v in environ.items() if not k.startswith("CDGEN_")}
        self._env = {**kept, **_CALM, **credentials}
        self._runner = runner
        self.announce: Callable[[list[str]], None] = lambda _command: None

    def run(
        self,
        args: list[str],
        timeout: float,
        *,
        detach: bool = False,
        extra_env: Mapping[str, str] | None = None,
    ) -> CliResult:
        command = ["npx", "--yes", "--prefer-offline", self.spec, *args]
        self.announce(command)
        return self._runner(command, {**self._env, **(extra_env or {})}, timeout, detach=detach)
