#!/usr/bin/env python3
"""A fake ``gh`` for running generated workflow scripts: it accepts exactly two forms and
refuses anything else with exit 2 and a usage message, as the kubectl simulator does.

    gh api PATH [--jq EXPR] [--paginate]
        GET only, from the GitHub API double at $CDGEN_FAKE_GITHUB_API with $GH_TOKEN
        (or $GITHUB_TOKEN). Prints what gh prints: the raw JSON (pages of arrays merged
        into one, with --paginate), or each --jq result on a line, strings unquoted. An
        HTTP error prints the body, then ``gh: MESSAGE (HTTP CODE)`` on stderr; exit 1.
    gh attestation verify oci://IMAGE@sha256:HEX --repo OWNER/NAME --cert-identity URL
        --predicate-type URL --format json [--jq EXPR]
        Answers from the state file $CDGEN_FAKE_GH_STATE (see fake_gh_attest.py).

--jq takes only the expressions in JQ_EXPRESSIONS (add one there to use it). Every call is
appended to the state file's ``calls`` when there is one. write_fake_gh() puts a ``gh``
shim on a PATH directory.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as a program: make the `support` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from support.fake_gh_attest import SLSA_V1, VerifyFailed, verify
from support.fake_gh_jq import JqError, evaluate, format_value, known_expression

API_VARIABLE = "CDGEN_FAKE_GITHUB_API"
STATE_VARIABLE = "CDGEN_FAKE_GH_STATE"
NO_TOKEN = """gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable. Example:
  env:
    GH_TOKEN: ${{ github.token }}"""
LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
OCI = re.compile(r"oci://([a-z0-9./_-]+(?::[0-9]+)?/[a-z0-9./_-]+)@(sha256:[0-9a-f]{64})")
VERIFY_FLAGS = {"--repo", "--cert-identity", "--predicate-type", "--format", "--jq"}


class UsageError(Exception):
    pass


class Failed(Exception):
    """Message lines for stderr and gh's exit code."""

    def __init__(self, *lines: str, code: int = 1) -> None:
        super().__init__("\n".join(lines))
        self.code = code


def token() -> str:
    found = os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN")
    if not found:
        raise Failed(NO_TOKEN, code=4)
    return found


def parse_flags(args: list[str], allowed: set[str]) -> tuple[list[str], dict[str, str]]:
    """``--flag value`` or ``--flag=value``, each at most once; the rest are positional."""
    positional: list[str] = []
    flags: dict[str, str] = {}
    items = iter(args)
    for arg in items:
        if not arg.startswith("-"):
            positional.append(arg)
            continue
        name, equals, value = arg.partition("=")
        name = "--jq" if name == "-q" else name
        if name not in allowed or name in flags:
            raise UsageError(f"unknown, repeated or unsupported flag: {arg}")
        if name == "--paginate":
            if equals:
                raise UsageError("--paginate takes no value")
            flags[name] = ""
            continue
        given = value if equals else next(items, None)
        if given is None:
            raise UsageError(f"flag needs an argument: {name}")
        flags[name] = given
    if "--jq" in flags and not known_expression(flags["--jq"]):
        raise UsageError(f"--jq expression not supported by the fake gh: {flags['--jq']!r}")
    return positional, flags


def api_path(path: str) -> str:
    if re.match(r"[a-z]+://", path) or "{" in path or "}" in path or " " in path:
        raise UsageError(f"gh api takes a path like repos/OWNER/NAME/..., not {path!r}")
    return "/" + path.lstrip("/")


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": f"token {token()}", "Accept": "application/vnd.github+json"}
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read()
    except urllib.error.URLError as error:
        host = urlsplit(url).netloc
        raise Failed(f"error connecting to {host}", f"({error.reason})") from None


def pages(base: str, path: str, paginate: bool) -> Iterator[tuple[int, dict[str, str], bytes]]:
    if paginate and "per_page=" not in path:  # gh asks for 100 at a time
        path += ("&" if "?" in path else "?") + "per_page=100"
    url: str | None = base.rstrip("/") + path
    while url:
        status, headers, body = get(url)
        yield status, headers, body
        found = LINK_NEXT.search(headers.get("Link", ""))
        url = found.group(1) if paginate and found and status < 300 else None


def merge_page(body: bytes, first: bool, last: bool) -> bytes:
    """gh's paginatedArrayReader: page arrays joined into one array."""
    if not first and body.startswith(b"["):
        body = (b" " if body.startswith(b"[]") else b",") + body[1:]
    if not last and body.endswith(b"]"):
        body = body[:-1]
    return body


def run_api(args: list[str]) -> int:
    positional, flags = parse_flags(args, {"--jq", "--paginate"})
    if len(positional) != 1:
        raise UsageError("gh api takes exactly one path")
    base = os.environ.get(API_VARIABLE)
    if not base:
        raise UsageError(f"{API_VARIABLE} is not set: where is the GitHub API double?")
    token()
    fetched = list(pages(base, api_path(positional[0]), "--paginate" in flags))
    out = sys.stdout.buffer
    for index, (status, _, body) in enumerate(fetched):
        if status >= 400:
            out.write(body)
            out.flush()
            raise Failed(f"gh: {error_message(status, body)}")
        if "--jq" in flags:
            write_jq(flags["--jq"], body)
        else:
            out.write(merge_page(body, index == 0, index == len(fetched) - 1))
    out.flush()
    return 0


def error_message(status: int, body: bytes) -> str:
    try:
        message = json.loads(body).get("message")
    except (ValueError, AttributeError):
        message = None
    return f"{message} (HTTP {status})" if message else f"HTTP {status}"


def write_jq(expression: str, document: Any) -> None:
    """Print the expression's results; ``document`` is parsed JSON, or bytes to parse."""
    try:
        parsed = json.loads(document) if isinstance(document, bytes) else document
        values = evaluate(expression, parsed)
    except ValueError as error:
        raise Failed(f"failed to parse JSON: {error}") from None
    except JqError as error:
        raise Failed(str(error)) from None
    sys.stdout.write("".join(format_value(value) + "\n" for value in values))


def run_verify(args: list[str], state: dict[str, Any]) -> int:
    positional, flags = parse_flags(args, VERIFY_FLAGS)
    artifact = OCI.fullmatch(positional[0]) if len(positional) == 1 else None
    if artifact is None:
        raise UsageError("gh attestation verify takes one oci://IMAGE@sha256:HEX")
    missing = sorted(VERIFY_FLAGS - {"--jq"} - flags.keys())
    if missing:
        raise UsageError(f"missing flags: {', '.join(missing)}")
    if flags["--format"] != "json" or flags["--predicate-type"] != SLSA_V1:
        raise UsageError(f"--format json --predicate-type {SLSA_V1} are the forms in use")
    if not re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", flags["--repo"]):
        raise Failed(f"invalid value provided for repo: {flags['--repo']}")
    token()
    image, digest = artifact.groups()
    try:
        lines, results = verify(
            state,
            image,
            digest,
            flags["--repo"],
            flags["--cert-identity"],
            flags["--predicate-type"],
        )
    except VerifyFailed as failed:
        raise Failed(*failed.args) from None
    sys.stderr.write("\n".join(lines) + "\n\n")
    if "--jq" in flags:
        write_jq(flags["--jq"], results)
    else:  # json.Encoder with SetEscapeHTML(false): compact, one line
        sys.stdout.write(json.dumps(results, separators=(",", ":"), ensure_ascii=False) + "\n")
    return 0


def with_state(argv: list[str]) -> dict[str, Any]:
    """Load the state file and append this call to it (under a lock: jobs run at once)."""
    path = os.environ.get(STATE_VARIABLE)
    if not path:
        return {}
    try:
        with open(path, "r+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            state: dict[str, Any] = json.load(handle)
            state.setdefault("calls", []).append(argv)
            handle.seek(0)
            handle.truncate()
            json.dump(state, handle, indent=1)
    except (OSError, ValueError, AttributeError) as error:
        raise UsageError(f"cannot use the state file {path}: {error}") from None
    return state


def main(argv: list[str]) -> int:
    try:
        state = with_state(argv)
        if argv[:1] == ["api"]:
            return run_api(argv[1:])
        if argv[:2] == ["attestation", "verify"]:
            if not os.environ.get(STATE_VARIABLE):
                raise UsageError(f"{STATE_VARIABLE} is not set: no attestations to verify")
            return run_verify(argv[2:], state)
        raise UsageError(f"unsupported command: gh {' '.join(argv)}")
    except UsageError as error:
        sys.stderr.write(f"fake gh: {error}\n{__doc__.split(chr(10) * 2)[1]}\n")
        return 2
    except Failed as failure:
        sys.stderr.write(f"{failure}\n")
        return failure.code


def write_fake_gh(
    directory: Path, attestations: dict[str, list[dict[str, str]]], python: str = sys.executable
) -> Path:
    """Write the state file and a ``gh`` shim; returns the bin directory for PATH."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    state_path = directory / "gh-state.json"
    state_path.write_text(json.dumps({"attestations": attestations, "calls": []}), encoding="utf-8")
    shim = bin_dir / "gh"
    program = Path(__file__).resolve()
    shim.write_text(
        f"#!/bin/sh\n{STATE_VARIABLE}='{state_path}' exec '{python}' '{program}' \"$@\"\n",
        encoding="utf-8",
    )
    shim.chmod(0o755)
    return bin_dir


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
