"""The git remote's `owner/name` and the branch that deploys, read without network access."""

from __future__ import annotations

import configparser
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cdgen.init.reading import read_text

_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
# git@host:owner/name.git (scp-like syntax: no scheme, a colon not followed by "//")
_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?(?P<host>[^@/:]+):(?!//)(?P<path>.+)$")
_URL_SCHEMES = frozenset({"https", "http", "ssh", "git", "git+ssh", "ssh+git"})
_GIT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class GitRemote:
    host: str
    owner: str
    name: str

    @property
    def slug(self) -> str:
        """`owner/name`, as GitHub spells it."""
        return f"{self.owner}/{self.name}"


def parse_remote_url(url: str) -> GitRemote | None:
    """`owner/name` of an https, ssh or scp-like remote URL; None for anything else."""
    url = url.strip()
    scp = _SCP_LIKE.match(url)
    if scp and "://" not in url:
        host, path = scp.group("host"), scp.group("path")
    else:
        parts = urlsplit(url)
        if parts.scheme not in _URL_SCHEMES or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
    segments = [s for s in path.strip("/").split("/") if s]
    if len(segments) != 2:
        return None
    owner, name = segments[0], segments[1].removesuffix(".git")
    if not _OWNER.match(owner) or not _REPO.match(name) or name in {".", ".."}:
        return None
    return GitRemote(host=host.lower(), owner=owner, name=name)


def detect_remote(root: Path, notes: list[str]) -> GitRemote | None:
    url = read_remote_url(root)
    if url is None:
        notes.append(
            "No git remote found: the image repository defaults to the GitHub repository "
            "at run time, and the gh commands resolve {owner}/{repo} from the directory "
            "you run them in."
        )
        return None
    remote = parse_remote_url(url)
    if remote is None:
        notes.append(
            f"The git remote {redact_url(url)!r} is not a GitHub owner/name URL; it was not used."
        )
    elif remote.host != "github.com":
        notes.append(
            f"The git remote is on {remote.host}, not github.com: run the gh commands with "
            f"GH_HOST={remote.host}."
        )
    return remote


def redact_url(url: str) -> str:
    """The URL without any credentials (https://user:token@host/...)."""
    return re.sub(r"//[^/@]*@", "//", url)


def read_remote_url(root: Path) -> str | None:
    """origin's URL, else the only remote's; git itself first, then .git/config."""
    names = run_git(root, "remote")
    if names is not None:
        remotes = names.split()
        chosen = "origin" if "origin" in remotes else (remotes[0] if len(remotes) == 1 else None)
        return run_git(root, "remote", "get-url", chosen) if chosen else None
    return read_config_remote(root / ".git" / "config")


def read_config_remote(config_path: Path) -> str | None:
    """origin's URL (else the only remote's) from a .git/config file, without git."""
    parser = configparser.RawConfigParser(strict=False)
    text = read_text(config_path, [], ".git/config")
    try:
        parser.read_string(text or "")
    except configparser.Error:
        return None
    urls: dict[str, str] = {}
    for section in parser.sections():
        match = re.fullmatch(r'remote\s+"(.+)"', section)
        if match and parser.has_option(section, "url"):
            urls[match.group(1)] = parser.get(section, "url").strip().strip('"')
    if "origin" in urls:
        return urls["origin"]
    return next(iter(urls.values())) if len(urls) == 1 else None


def detect_branch(root: Path) -> str | None:
    """The remote's default branch (origin/HEAD), else the checked-out branch."""
    remote_head = run_git(root, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    if remote_head and remote_head.startswith("origin/"):
        return remote_head.removeprefix("origin/")
    current = run_git(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    if current is not None:
        return current or None
    return read_head_branch(root / ".git" / "HEAD")


def read_head_branch(head_path: Path) -> str | None:
    head = (read_text(head_path, [], ".git/HEAD") or "").strip()
    return head.removeprefix("ref: refs/heads/") if head.startswith("ref: refs/heads/") else None


def run_git(root: Path, *args: str) -> str | None:
    """git's stdout, stripped; None when git is missing, fails, or root is no repository."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
