"""The descriptor rules of a static site that one key's schema cannot state: which keys each
provider takes, what each environment may ask for, and an image or a site, never both.
Every violation is reported at the key or value it is about."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cdgen.deploy.site.clis import CLI_PINS
from cdgen.descriptor import Document, PathItem
from cdgen.errors import Violation
from cdgen.resources import schema_node
from cdgen.rules import matches

# Keys of `site` that belong to one provider only.
_ONLY = {
    "org-id": "vercel",
    "protection-bypass-secret": "vercel",
    "account-id": "cloudflare-pages",
    "output": "cloudflare-pages",
    "production-branch": "cloudflare-pages",
}
_REQUIRED = {"vercel": "org-id", "cloudflare-pages": "account-id"}
_PROJECTS = {
    "vercel": (r"^prj_[A-Za-z0-9]{1,64}$", "the project's ID (prj_ then letters and digits)"),
    "cloudflare-pages": (
        r"^[a-z0-9](?:[a-z0-9-]{0,56}[a-z0-9])?$",
        "the project's name (lowercase letters, digits and '-', at most 58 characters)",
    ),
}
_NAMES = {"vercel": "Vercel", "cloudflare-pages": "Cloudflare Pages"}


def find_site_violations(doc: Document) -> Iterator[Violation]:
    data = doc.data
    if not isinstance(data, dict):
        return
    environments = data.get("environments")
    environments = environments if isinstance(environments, list) else []
    site = data.get("site")
    if "site" not in data:
        for index, env in enumerate(environments):
            if isinstance(env, dict) and "site" in env:
                yield doc.violation(
                    ["environments", index, "site"],
                    "only a descriptor with a top-level site has it; an image's environment "
                    "deploys with kubernetes",
                    key=True,
                )
        return
    if "image" in data:
        line = doc.position(["image"], key=True)[0]
        message = f"a descriptor deploys an image (line {line}) or a static site, not both"
        yield doc.violation(["site"], message + ": remove one", key=True)
    provider = site.get("provider") if isinstance(site, dict) else None
    if isinstance(site, dict) and provider in _REQUIRED:
        yield from _site_keys(doc, site, str(provider))
    for index, env in enumerate(environments):
        if isinstance(env, dict):
            last = index == len(environments) - 1
            yield from _environment(doc, env, (index, last), site, provider)
    if provider == "cloudflare-pages" and isinstance(site, dict):
        yield from _repeated_branches(doc, environments, site)


def _site_keys(doc: Document, site: dict[str, Any], provider: str) -> Iterator[Violation]:
    name = _NAMES[provider]
    for key, owner in _ONLY.items():
        if key in site and owner != provider:
            message = f"{_NAMES[owner]} only; remove it for provider {provider}"
            yield doc.violation(["site", key], message, key=True)
    required = _REQUIRED[provider]
    if required not in site:
        yield doc.violation(["site"], f"missing required key '{required}' (provider {provider})")
    project = site.get("project")
    pattern, what = _PROJECTS[provider]
    general = schema_node("site", "project")["pattern"]
    if isinstance(project, str) and matches(general, project) and not matches(pattern, project):
        yield doc.violation(["site", "project"], f"{name}: must be {what} (got {project!r})")
    node = site.get("node-version")
    least = CLI_PINS[provider].node
    major = re.match(r"[0-9]+", node) if isinstance(node, str) else None
    if major is not None and int(major.group()) < least:
        cli = CLI_PINS[provider]
        message = f"{cli.package} {cli.version} needs Node.js {least} or newer (got {node!r})"
        yield doc.violation(["site", "node-version"], message)


def _environment(
    doc: Document, env: dict[str, Any], place: tuple[int, bool], site: Any, provider: Any
) -> Iterator[Violation]:
    index, last = place
    here: list[PathItem] = ["environments", index]
    for key in ("kubernetes", "canary"):
        if key in env:
            message = "a site has no Kubernetes Deployment; remove it"
            yield doc.violation([*here, key], message, key=True)
    if env.get("approval") == "manual":
        message = (
            "manual promotion takes an already built image; a site's environments are "
            "approved with none or reviewers"
        )
        yield doc.violation([*here, "approval"], message)
    e2e = env.get("e2e")
    if isinstance(e2e, dict) and "node-version" in e2e:
        message = (
            "a site's jobs set up site.node-version for the build, the provider's CLI and "
            "the tests; remove it"
        )
        yield doc.violation([*here, "e2e", "node-version"], message, key=True)
    if provider == "vercel":
        yield from _vercel_environment(doc, env, here, last)
    elif provider == "cloudflare-pages":
        yield from _cloudflare_environment(doc, env, here, last, site)


def _vercel_environment(
    doc: Document, env: dict[str, Any], here: list[PathItem], last: bool
) -> Iterator[Violation]:
    if "site" in env:
        message = "Cloudflare Pages only (its branch); a Vercel environment has none"
        yield doc.violation([*here, "site"], message, key=True)
    if last and "url" not in env:
        message = (
            "missing required key 'url' (the last environment of a Vercel site is production: "
            "the domain the promoted deployment serves)"
        )
        yield doc.violation(here, message)
    if not last and "url" in env:
        message = (
            "a Vercel environment before the last tests the new deployment at its own URL, "
            "which no domain serves yet; remove url"
        )
        yield doc.violation([*here, "url"], message, key=True)
    if not last and _rolls_back(env):
        message = (
            "no domain serves the deployment before production, so there is nothing to roll "
            "back: failed tests stop the pipeline; remove it"
        )
        yield doc.violation([*here, "e2e", "rollback-on-failure"], message, key=True)


def _cloudflare_environment(
    doc: Document, env: dict[str, Any], here: list[PathItem], last: bool, site: Any
) -> Iterator[Violation]:
    if "url" not in env:
        message = "missing required key 'url' (the branch's alias or the project's domain)"
        yield doc.violation(here, message)
    if not isinstance(site, dict) or not _rolls_back(env):
        return
    branch = _branch(env, site, last)
    production = str(site.get("production-branch", "main"))
    if branch != production:
        message = (
            f"branch {branch!r} makes preview deployments, which Cloudflare cannot roll back "
            f"(only production deployments, of branch {production!r}): remove it"
        )
        yield doc.violation([*here, "e2e", "rollback-on-failure"], message, key=True)


def _repeated_branches(
    doc: Document, environments: list[Any], site: dict[str, Any]
) -> Iterator[Violation]:
    seen: dict[str, str] = {}
    for index, env in enumerate(environments):
        if not isinstance(env, dict) or not isinstance(env.get("name"), str):
            continue
        branch = _branch(env, site, index == len(environments) - 1)
        if branch in seen:
            message = (
                f"deploys to branch {branch!r} like environment '{seen[branch]}': each "
                "environment needs a branch of its own (set environments[].site.branch)"
            )
            yield doc.violation(["environments", index, "name"], message)
        else:
            seen[branch] = env["name"]


def _branch(env: dict[str, Any], site: dict[str, Any], last: bool) -> str:
    given = env.get("site")
    if isinstance(given, dict) and isinstance(given.get("branch"), str):
        return str(given["branch"])
    return str(site.get("production-branch", "main")) if last else str(env.get("name"))


def _rolls_back(env: dict[str, Any]) -> bool:
    e2e = env.get("e2e")
    return isinstance(e2e, dict) and e2e.get("rollback-on-failure") is True
