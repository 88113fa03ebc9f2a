"""What `cdgen init` asks and writes for a static site: the provider it detected (offered as
the default), the project and its owner, the environments' URLs, and the commented
cdgen.yml, the GitHub settings and the provider's first steps."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from cdgen import rules
from cdgen.init.answers import (
    INIT_APPROVAL,
    PRODUCTION,
    STAGING,
    Question,
    default_name,
    env_key,
)
from cdgen.init.detect import Detection
from cdgen.init.github_setup import environment_settings
from cdgen.init.site import CLOUDFLARE_PAGES, VERCEL
from cdgen.resources import schema_defaults

# Placeholders that pass the schema and fail the first deploy with the provider's own message.
PLACEHOLDERS = {
    "site.project": "prj_REPLACEME",
    "site.org-id": "team_REPLACEME",
    "site.account-id": "0" * 32,
}
_TOKENS = {VERCEL: "VERCEL_TOKEN", CLOUDFLARE_PAGES: "CLOUDFLARE_API_TOKEN"}


@dataclass(frozen=True)
class SiteEnvironmentAnswers:
    name: str
    url: str | None  # None: Vercel's environment before production (the deployment's URL)
    approval: str
    smoke_path: str
    e2e: str | None


@dataclass(frozen=True)
class SiteInitAnswers:
    name: str
    branch: str
    github_repository: str | None
    provider: str
    project: str
    owner: str  # Vercel's org ID or Cloudflare's account ID
    install: str
    build: str
    output: str | None
    node_version: str | None
    environments: tuple[SiteEnvironmentAnswers, ...]
    notes: tuple[str, ...] = ()

    @property
    def vercel(self) -> bool:
        return self.provider == VERCEL


# (key, prompt, the value holding its default, rule, asked for this provider only)
_ASKED = (
    ("name", "Service name", "name", "name", None),
    ("branch", "Branch whose pushes deploy", "branch", "branch", None),
    ("site.provider", "Where the site is hosted (vercel | cloudflare-pages)", "site.provider",
     "provider", None),
    ("site.project", "Vercel project ID (prj_…)", "vercel.project", "site-project", VERCEL),
    ("site.org-id", "Vercel team or user ID (team_…)", "site.org-id", "org-id", VERCEL),
    ("site.project", "Cloudflare Pages project name", "cloudflare.project", "site-project",
     CLOUDFLARE_PAGES),
    ("site.account-id", "Cloudflare account ID", "site.account-id", "account-id",
     CLOUDFLARE_PAGES),
    (env_key(STAGING, "url"), "Public URL of staging (its branch's alias)",
     env_key(STAGING, "url"), "url", CLOUDFLARE_PAGES),
    (env_key(PRODUCTION, "url"), "Public URL of production", env_key(PRODUCTION, "url"), "url",
     None),
    ("smoke.path", "Health-check path", "smoke.path", "smoke-path", None),
)  # fmt: skip


def site_questions(d: Detection) -> list[Question]:
    values = site_values(d)
    asked = [
        Question(key, prompt, values[source], rule, when=("site.provider", only) if only else None)
        for key, prompt, source, rule, only in _ASKED
    ]
    if not values[env_key(STAGING, "e2e")]:
        text = "End-to-end test command run against staging (empty: none)"
        asked.append(Question(env_key(STAGING, "e2e"), text, "", "command", optional=True))
    text = "How production deploys are approved (reviewers | none)"
    key = env_key(PRODUCTION, "approval")
    asked.append(Question(key, text, values[key], "approval"))
    return asked


def site_values(d: Detection) -> dict[str, str]:
    hint = d.site
    name = default_name(d)
    project = hint.project if hint and hint.project else None
    cloudflare_project = project if project and not project.startswith("prj_") else name
    branch = d.branch if d.branch and rules.is_valid("branch", d.branch) else None
    return {
        "name": name,
        "branch": branch or schema_defaults()["branch"],
        "site.provider": hint.provider if hint else VERCEL,
        "vercel.project": project
        if project and project.startswith("prj_")
        else PLACEHOLDERS["site.project"],
        "cloudflare.project": cloudflare_project,
        "site.org-id": (hint.org_id if hint else None) or PLACEHOLDERS["site.org-id"],
        "site.account-id": PLACEHOLDERS["site.account-id"],
        env_key(STAGING, "url"): f"https://{STAGING}.{cloudflare_project}.pages.dev",
        env_key(PRODUCTION, "url"): f"https://{name}.vercel.app",
        "smoke.path": "/",
        env_key(STAGING, "e2e"): d.node.e2e if d.node and d.node.e2e else "",
        env_key(PRODUCTION, "approval"): INIT_APPROVAL,
    }


def site_answers(d: Detection, overrides: Mapping[str, str]) -> SiteInitAnswers:
    """Defaults from `d`, replaced by the answers that follow the descriptor's rules."""
    values, notes = site_values(d), list(d.notes)
    provider = overrides.get("site.provider", values["site.provider"]).strip()
    provider = provider if provider in (VERCEL, CLOUDFLARE_PAGES) else values["site.provider"]
    if provider == CLOUDFLARE_PAGES:
        values["site.project"] = values["cloudflare.project"]
        values[env_key(PRODUCTION, "url")] = f"https://{values['site.project']}.pages.dev"
    else:
        values["site.project"] = values["vercel.project"]
    for key, answer in sorted(overrides.items()):
        if key not in values:
            notes.append(f"{key}: not a setting cdgen init asks about; ignored.")
        elif key.endswith(".e2e") and not answer.strip():
            values[key] = ""
        elif rules.check_value(_rule_of(key), answer.strip()) is None:
            values[key] = answer.strip()
        else:
            notes.append(f"{key}: {answer!r} cannot be used; using {values[key]!r} instead.")
    approval = values[env_key(PRODUCTION, "approval")]
    if approval == "manual":
        notes.append("approval: manual promotion is for images; production waits for reviewers.")
        approval = "reviewers"
    return _answers(d, values, provider, approval, notes)


_NAMED_RULES = {
    "name": "name",
    "branch": "branch",
    "site.provider": "provider",
    "site.project": "site-project",
    "site.org-id": "org-id",
    "site.account-id": "account-id",
    "smoke.path": "smoke-path",
}


def _rule_of(key: str) -> str:
    """The rule an answer follows: by its key, or by its last part (`….url`, `….e2e`)."""
    last = key.rsplit(".", 1)[-1]
    return _NAMED_RULES.get(key) or {"e2e": "command"}.get(last, last)


def _answers(
    d: Detection, values: Mapping[str, str], provider: str, approval: str, notes: list[str]
) -> SiteInitAnswers:
    hint = d.site
    vercel = provider == VERCEL
    e2e = values[env_key(STAGING, "e2e")] or None
    staging_url = None if vercel else values[env_key(STAGING, "url")]
    environments = (
        SiteEnvironmentAnswers(STAGING, staging_url, "none", values["smoke.path"], e2e),
        SiteEnvironmentAnswers(
            PRODUCTION, values[env_key(PRODUCTION, "url")], approval, values["smoke.path"], None
        ),
    )
    node = d.node.node_version if d.node else None
    return SiteInitAnswers(
        name=values["name"],
        branch=values["branch"],
        github_repository=d.remote.slug if d.remote else None,
        provider=provider,
        project=values["site.project"],
        owner=values["site.org-id"] if vercel else values["site.account-id"],
        install=hint.install if hint else "npm ci",
        build=hint.build if hint else "npm run build",
        output=None if vercel else (hint.output if hint and hint.output else None),
        node_version=node if node and node.isdigit() and int(node) >= 22 else None,
        environments=environments,
        notes=tuple(notes),
    )


def site_setup_commands(answers: SiteInitAnswers) -> list[str]:
    """The environments, their reviewers and deploy branch, and the token secret of each."""
    repository = answers.github_repository
    token = _TOKENS[answers.provider]
    lines = [
        f"# One-time GitHub settings for {repository or '{owner}/{repo}'}: run from a clone, "
        "with `gh auth login`",
        f"# as a repository admin. Each environment only accepts deploys from {answers.branch}.",
    ]
    for env in answers.environments:
        about = (
            "create it with required reviewers, limit it to the deploy branch, add its token"
            if env.approval == "reviewers"
            else "create it, limit it to the deploy branch, add its token"
        )
        lines += environment_settings(env.name, env.approval, about, answers.branch, repository)
        command = ["gh", "secret", "set", token, "--env", env.name]
        command += ["--repo", repository] if repository else []
        lines.append(f"{shlex.join(command)}  # pastes the token at the prompt")
    return lines


def site_first_deploy(answers: SiteInitAnswers) -> list[str]:
    if answers.vercel:
        return [
            "# The Vercel project exists and this repository is linked to it: `npx vercel link`",
            "# writes .vercel/project.json, whose projectId and orgId are site.project and",
            "# site.org-id.",
            "# The token: an access token of the project's owner (vercel.com/account/tokens).",
            "# With Deployment Protection on, staging's tests need its Protection Bypass for",
            "# Automation secret: set site.protection-bypass-secret to the secret's name.",
            "# Production serves a deployment before the first run (what a failed promotion",
            "# returns to): deploy once by hand with `npx vercel --prod`.",
            "# cdgen promotes to production; a project on Hobby rolls back only one step.",
        ]
    return [
        "# The Pages project exists, with its production branch (site.production-branch):",
        f"npx wrangler pages project create {shlex.quote(answers.project)} "
        f"--production-branch {shlex.quote(answers.branch)}",
        "# The token: a Cloudflare API token with Account > Cloudflare Pages > Edit.",
        "# Only production deployments can be rolled back; previews stay as they are.",
    ]
