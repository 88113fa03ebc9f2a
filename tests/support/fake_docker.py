#!/usr/bin/env python3
"""A fake ``docker`` for running generated workflow scripts: it accepts exactly the forms
those scripts use and rejects anything else with exit 2, like the kubectl simulator.

- ``docker buildx imagetools inspect REF --format '{{.Manifest.Digest}}'`` prints the digest
  the state file maps REF to (``tags``), or fails as buildx does for an unknown reference;
  with ``require_login``, only after a login to REF's registry (~/.docker/config.json).
- ``docker run --rm [--entrypoint /bin/sh] IMAGE [ARG...]`` records its arguments (``runs``)
  and exits with the status the state file gives the image (``exit``, default 0).

The state file is named by ``FAKE_DOCKER_STATE``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

DIGEST_FORMAT = "{{.Manifest.Digest}}"


def _load(path: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return state


def _usage(argv: list[str]) -> int:
    print(f"fake docker: unsupported command: {argv!r}", file=sys.stderr)
    return 2


def inspect(state: dict[str, Any], argv: list[str]) -> int:
    if len(argv) != 6 or argv[4] != "--format" or argv[5] != DIGEST_FORMAT:
        return _usage(argv)
    reference = argv[3]
    registry = reference.split("/", 1)[0]
    if state.get("require_login") and registry not in _logins():
        print(f"ERROR: {reference}: unauthorized: authentication required", file=sys.stderr)
        return 1
    digest = state.get("tags", {}).get(reference)
    if digest is None:
        print(f"ERROR: {reference}: not found", file=sys.stderr)
        return 1
    print(digest)
    return 0


def _logins() -> set[str]:
    """The registries ``docker login`` has stored credentials for."""
    config = Path(os.environ.get("HOME", "/nonexistent")) / ".docker" / "config.json"
    try:
        auths = json.loads(config.read_text(encoding="utf-8")).get("auths", {})
    except (OSError, ValueError):
        return set()
    return set(auths)


def run(path: Path, state: dict[str, Any], argv: list[str]) -> int:
    rest = argv[1:]
    if not rest or rest[0] != "--rm":
        return _usage(argv)
    rest = rest[1:]
    entrypoint = None
    if rest[:1] == ["--entrypoint"]:
        if len(rest) < 2 or rest[1] != "/bin/sh":
            return _usage(argv)
        entrypoint, rest = rest[1], rest[2:]
    if not rest or rest[0].startswith("-"):
        return _usage(argv)
    image, args = rest[0], rest[1:]
    state.setdefault("runs", []).append({"image": image, "entrypoint": entrypoint, "args": args})
    path.write_text(json.dumps(state), encoding="utf-8")
    return int(state.get("exit", {}).get(image, 0))


def main(argv: list[str]) -> int:
    path = Path(os.environ["FAKE_DOCKER_STATE"])
    state = _load(path)
    if argv[:3] == ["buildx", "imagetools", "inspect"]:
        return inspect(state, argv)
    if argv[:1] == ["run"]:
        return run(path, state, argv)
    return _usage(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
