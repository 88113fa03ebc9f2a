"""The inputs of a site deploy (``target: vercel`` or ``cloudflare-pages``), every one checked
before anything is run, and every problem reported at once."""

from __future__ import annotations

import re
from collections.abc import Mapping

from cdgen.deploy.options import (
    InvalidInputsError,
    Options,
    _check_text,
    _shared_fields,
    _url_problem,
    _value,
)
from cdgen.deploy.recording import Recording
from cdgen.deploy.records_target import token_problem
from cdgen.deploy.site.clis import CLI_PINS
from cdgen.deploy.site.target import CLOUDFLARE_PAGES, VERCEL, SiteOptions

TARGETS = ("kubernetes", VERCEL, CLOUDFLARE_PAGES)
# Vercel: a deployment's own URL (what `vercel deploy` prints) or its ID.
_VERCEL_URL = re.compile(r"https://[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63}){1,4}")
_VERCEL_ID = re.compile(r"dpl_[A-Za-z0-9]{1,64}")
_VERCEL_PROJECT = re.compile(r"prj_[A-Za-z0-9]{1,64}")
_VERCEL_OWNER = re.compile(r"(?:team_)?[A-Za-z0-9]{1,64}")
# Cloudflare Pages: deployment IDs are UUIDs; projects and accounts as the API names them.
_CLOUDFLARE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CLOUDFLARE_PROJECT = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,56}[a-z0-9])?")
_CLOUDFLARE_ACCOUNT = re.compile(r"[0-9a-f]{32}")
_BRANCH = re.compile(r"(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]{1,255}")
_VERSION = re.compile(r"[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}")
_DIRECTORY = re.compile(r"[^\x00-\x1f\x7f]{1,4096}")
_SMOKE_PATH = re.compile(r"/(?:[A-Za-z0-9._~/-]|%[0-9A-Fa-f]{2}){0,1023}")


def is_deployment(provider: str, value: str) -> bool:
    """A Vercel deployment URL or ID, or a Cloudflare Pages deployment ID."""
    if provider == VERCEL:
        return bool(_VERCEL_URL.fullmatch(value) or _VERCEL_ID.fullmatch(value))
    return _CLOUDFLARE_ID.fullmatch(value) is not None


def parse_site_options(
    raw: Mapping[str, str], mode: str, recording: Recording, problems: list[str]
) -> Options:
    """Options of a site deploy; raise InvalidInputsError listing every problem."""
    values = dict(raw)
    target = _value(values, "target")
    if target not in (VERCEL, CLOUDFLARE_PAGES):
        problems.append(f"target: {target[:40]!r} is not one of {', '.join(TARGETS)}")
        raise InvalidInputsError(problems)
    site = _site(values, target, mode, problems)
    image = _value(values, "image")
    only_if_live = _value(values, "only-if-live")
    for name, value in (("image", image), ("only-if-live", only_if_live)):
        if value and not is_deployment(target, value):
            problems.append(f"{name}: {value[:120]!r} is not {_deployment_words(target)}")
    if not image and mode != "deploy":
        problems.append(f"image: required with mode {mode} (the deployment)")
    if not image and site.production:
        problems.append("image: required to promote (the deployment that passed before)")
    if image and mode == "deploy" and not site.vercel:
        problems.append(
            "image: Cloudflare Pages has no promotion; mode deploy uploads site-directory"
        )
    if _value(values, "strategy") != "rolling":
        problems.append(f"strategy: a site has no canary (target {target} takes rolling only)")
    environment = _check_text(values, "environment", "space ._/- (at most 100)", problems)
    if not environment:
        problems.append("environment: required with a site (it names the deployment record)")
    smoke_url = _value(values, "smoke-url")
    _check_smoke_url(smoke_url, site, mode, image, problems)
    options = Options(
        mode=mode,
        image=image,
        only_if_live=only_if_live,
        namespace="",
        deployment="",
        container="",
        smoke_url=smoke_url,
        kubeconfig_file="",
        environment=environment,
        recording=recording,
        **_shared_fields(values, problems),
        site=site,
    )
    if problems:
        raise InvalidInputsError(problems)
    return options


def _deployment_words(target: str) -> str:
    if target == VERCEL:
        return "a Vercel deployment (its https:// URL or its dpl_ ID)"
    return "a Cloudflare Pages deployment ID (a UUID)"


def _site(values: dict[str, str], target: str, mode: str, problems: list[str]) -> SiteOptions:
    vercel = target == VERCEL
    project = _value(values, "site-project")
    account = _value(values, "site-account")
    checks = (
        ("site-project", project, _VERCEL_PROJECT if vercel else _CLOUDFLARE_PROJECT),
        ("site-account", account, _VERCEL_OWNER if vercel else _CLOUDFLARE_ACCOUNT),
    )
    for name, value, pattern in checks:
        if not value:
            problems.append(f"{name}: required with target {target}")
        elif not pattern.fullmatch(value):
            problems.append(f"{name}: {value[:80]!r} is not {_ACCOUNT_WORDS[name, vercel]}")
    version = _value(values, "site-cli-version") or CLI_PINS[target].version
    if not _VERSION.fullmatch(version):
        problems.append(f"site-cli-version: {version[:40]!r} is not an exact version (1.2.3)")
    token = values.get("site-token", "")
    if not token and mode != "record":
        problems.append(f"site-token: required with target {target} (the API token)")
    for name in ("site-token", "site-bypass"):
        problem = token_problem(name, values.get(name, ""), 4096)
        if problem:
            problems.append(problem)
    production = _value(values, "site-production")
    if production not in ("true", "false"):
        problems.append(f"site-production: {production[:20]!r} is not 'true' or 'false'")
    directory, branch = _cloudflare_inputs(values, vercel, mode, problems)
    return SiteOptions(
        provider=target,
        project=project,
        account=account,
        cli_version=version,
        directory=directory,
        branch=branch,
        production=vercel and production == "true",
        token=token,
        bypass=values.get("site-bypass", ""),
    )


_ACCOUNT_WORDS = {
    ("site-project", True): "a Vercel project ID (prj_ then letters and digits)",
    ("site-project", False): "a Cloudflare Pages project name",
    ("site-account", True): "a Vercel team ID (team_…) or user ID",
    ("site-account", False): "a Cloudflare account ID (32 hexadecimal digits)",
}


def _cloudflare_inputs(
    values: dict[str, str], vercel: bool, mode: str, problems: list[str]
) -> tuple[str, str]:
    directory = _value(values, "site-directory")
    branch = _value(values, "site-branch")
    if vercel:
        for name, value in (("site-directory", directory), ("site-branch", branch)):
            if value:
                problems.append(f"{name}: Cloudflare Pages only (target vercel takes none)")
        return "", ""
    if not branch:
        problems.append("site-branch: required with target cloudflare-pages")
    elif not _BRANCH.fullmatch(branch) or branch.endswith(("/", ".", ".lock")):
        problems.append(f"site-branch: {branch[:80]!r} is not a branch name")
    if mode == "deploy" and not directory:
        problems.append("site-directory: required to deploy (the built files to upload)")
    elif directory and not _DIRECTORY.fullmatch(directory):
        problems.append("site-directory: not a directory name")
    return directory, branch


def _check_smoke_url(
    value: str, site: SiteOptions, mode: str, image: str, problems: list[str]
) -> None:
    """A URL, or for a Vercel deployment no domain serves, a path on its own URL."""
    if not value:
        return
    if value.startswith("/"):
        own_url = site.vercel and not site.production and mode in ("deploy", "verify")
        if not own_url:
            problems.append(
                "smoke-url: a path is only taken for a Vercel deployment tested at its own URL"
            )
        elif not _SMOKE_PATH.fullmatch(value):
            problems.append(f"smoke-url: {value[:80]!r} is not a URL path")
        elif image.startswith("dpl_"):
            problems.append("smoke-url: a path needs image as the deployment's URL, not its ID")
        return
    problem = _url_problem(value)
    if problem:
        problems.append(f"smoke-url: {value[:80]!r} {problem}")
