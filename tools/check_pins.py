#!/usr/bin/env python3
"""Check cdgen's pin tables against the repositories they name (online).

Three tables are checked:

- ``cdgen.pins``: every third-party action's SHA must be the commit its tag points to
  (``git ls-remote --tags``; an annotated tag is peeled with ``^{}``), and every tool
  release an action is told to download (``TOOL_RELEASES``) must be a tag of its repository.
- ``cdgen.deploy.site.clis``: every site CLI's version must have its release tag
  (``vercel@X``, ``wrangler@X``) at the commit the table records, in the CLI's repository.
- ``tests/data/own-action-inputs.json``: the inputs recorded for each commit of cdgen's own
  action that the example pins must be exactly the ``inputs:`` of ``action.yml`` at that
  commit (``git show``, which needs the full history of this repository).

The project's ``pins.yml`` workflow runs this weekly and whenever a table changes; the test
suite runs it against local bare repositories. Exit status: 0 all pins hold, 1 a pin is wrong
(each problem listed), 2 bad usage.

    python3 tools/check_pins.py [--base-url https://github.com] [--own-action-record FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "generator"))

from cdgen.deploy.site.clis import CLI_PINS, CliPin  # noqa: E402 - from this checkout
from cdgen.pins import PINS, TOOL_RELEASES, Pin, ToolRelease  # noqa: E402 - from this checkout

OWN_RECORD = ROOT / "tests" / "data" / "own-action-inputs.json"
LsRemote = Callable[[str], str]


def ls_remote(url: str) -> str:
    """The tags of a remote repository, as ``git ls-remote --tags`` prints them."""
    done = subprocess.run(
        ["git", "ls-remote", "--tags", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise LookupError(done.stderr.strip() or f"git ls-remote exited {done.returncode}")
    return done.stdout


def tag_commits(listing: str) -> dict[str, str]:
    """Tag name -> the commit it points to: the peeled ``^{}`` line wins for annotated tags."""
    direct: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in listing.splitlines():
        sha, _, ref = line.partition("\t")
        if not ref.startswith("refs/tags/"):
            continue
        name = ref.removeprefix("refs/tags/")
        if name.endswith("^{}"):
            peeled[name.removesuffix("^{}")] = sha
        else:
            direct[name] = sha
    return {**direct, **peeled}


def check_pin(pin: Pin, base_url: str, lister: LsRemote = ls_remote) -> str | None:
    """Why the pin is wrong, or None when its SHA is the commit of its tag."""
    return check_tag(pin.repository, pin.tag, pin.sha, base_url, lister)


def check_tag(
    repository: str, tag: str, sha: str, base_url: str, lister: LsRemote = ls_remote
) -> str | None:
    """Why ``sha`` is not the commit of ``tag`` in ``repository``; None when it is."""
    url = f"{base_url.rstrip('/')}/{repository}.git"
    try:
        tags = tag_commits(lister(url))
    except (LookupError, OSError, subprocess.TimeoutExpired) as error:
        return f"{repository}: cannot list the tags of {url}: {error}"
    found = tags.get(tag)
    if found is None:
        return f"{repository}: tag {tag} does not exist"
    if found != sha:
        return f"{repository}: {tag} is commit {found}, the table pins {sha}"
    return None


def check_cli_pins(
    pins: Iterable[CliPin], base_url: str, lister: LsRemote = ls_remote
) -> list[str]:
    """The site CLIs' pins: each version's release tag, at the commit the table records."""
    return [
        problem
        for pin in pins
        if (problem := check_tag(pin.repository, pin.tag, pin.commit, base_url, lister))
    ]


def check_tool(release: ToolRelease, base_url: str, lister: LsRemote = ls_remote) -> str | None:
    """Why the tool's pinned release is wrong, or None when its tag exists."""
    url = f"{base_url.rstrip('/')}/{release.repository}.git"
    try:
        tags = tag_commits(lister(url))
    except (LookupError, OSError, subprocess.TimeoutExpired) as error:
        return f"{release.repository}: cannot list the tags of {url}: {error}"
    if release.tag not in tags:
        return f"{release.repository}: release tag {release.tag} does not exist"
    return None


def action_inputs(repository: Path, commit: str) -> set[str]:
    """The ``inputs:`` keys of ``action.yml`` at ``commit`` (a plain YAML mapping read by
    indentation: the file's top-level ``inputs:`` block lists each input at two spaces)."""
    done = subprocess.run(
        ["git", "-C", str(repository), "show", f"{commit}:action.yml"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise LookupError(done.stderr.strip() or f"git show exited {done.returncode}")
    names: set[str] = set()
    inside = False
    for line in done.stdout.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            inside = line.rstrip() == "inputs:"
            continue
        if inside and line.startswith("  ") and not line.startswith("   ") and line.endswith(":"):
            names.add(line.strip().removesuffix(":"))
    return names


def check_own_record(record: Path, repository: Path) -> list[str]:
    problems = []
    recorded: dict[str, list[str]] = json.loads(record.read_text(encoding="utf-8"))
    for commit, inputs in sorted(recorded.items()):
        try:
            actual = action_inputs(repository, commit)
        except (LookupError, OSError, subprocess.TimeoutExpired) as error:
            problems.append(f"{record.name}: commit {commit}: {error}")
            continue
        if actual != set(inputs):
            problems.append(
                f"{record.name}: commit {commit}: action.yml has inputs {sorted(actual)}, "
                f"the record says {sorted(inputs)}"
            )
    return problems


def check_all(pins: Iterable[Pin], base_url: str, lister: LsRemote = ls_remote) -> list[str]:
    return [problem for pin in pins if (problem := check_pin(pin, base_url, lister))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="https://github.com", help="where repositories live")
    parser.add_argument(
        "--own-action-record",
        type=Path,
        help=f"also check this record of cdgen's own action inputs (e.g. {OWN_RECORD.name})",
    )
    args = parser.parse_args(argv)
    problems = check_all(PINS.values(), args.base_url)
    problems += [p for tool in TOOL_RELEASES if (p := check_tool(tool, args.base_url))]
    problems += check_cli_pins(CLI_PINS.values(), args.base_url)
    if args.own_action_record:
        problems += check_own_record(args.own_action_record, ROOT)
    for problem in problems:
        print(f"::error title=pins::{problem}" if _on_github() else f"error: {problem}")
    checked = len(PINS) + len(TOOL_RELEASES) + len(CLI_PINS) + (1 if args.own_action_record else 0)
    if problems:
        print(f"{len(problems)} pin problem(s) found", file=sys.stderr)
        return 1
    print(f"all pins hold ({checked} checked)")
    return 0


def _on_github() -> bool:
    import os

    return os.environ.get("GITHUB_ACTIONS") == "true"


if __name__ == "__main__":
    sys.exit(main())
