"""The text of a new, commented `cdgen.yml` for a static site (`cdgen init`)."""

from __future__ import annotations

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from cdgen.init.commented import add_comment
from cdgen.init.scaffold import HEADER, dump_yaml
from cdgen.init.site_answers import PLACEHOLDERS, SiteEnvironmentAnswers, SiteInitAnswers

_ABOUT = {
    "vercel": (
        "\nThe site: built once with `vercel build --prod` in staging's job, deployed where\n"
        "no domain serves it, tested there at its own URL, then promoted to production\n"
        "(never rebuilt); a failed production smoke test rolls back with `vercel rollback`."
    ),
    "cloudflare-pages": (
        "\nThe site: built once into `output`, kept as a workflow artifact, uploaded by each\n"
        "environment to its branch with wrangler; a failed production smoke test rolls the\n"
        "production deployment back through Cloudflare's API."
    ),
}


def render_site_descriptor(answers: SiteInitAnswers) -> str:
    root = CommentedMap()
    root["version"] = 1
    root["name"] = answers.name
    root["branch"] = answers.branch
    root["site"] = build_site(answers)
    root["environments"] = CommentedSeq(build_environment(e) for e in answers.environments)
    root.yaml_set_start_comment(HEADER)
    add_comment(root, "version", "descriptor format", 0)
    add_comment(root, "name", "service name", 0)
    add_comment(root, "branch", "pushes to this branch build and deploy", 0)
    root.yaml_set_comment_before_after_key("site", before=_ABOUT[answers.provider])
    root.yaml_set_comment_before_after_key(
        "environments",
        before="\nEnvironments in promotion order: each deploys only after the one before it\n"
        "succeeded. Each is a GitHub environment holding its own token secret.",
    )
    return dump_yaml(root)


def build_site(answers: SiteInitAnswers) -> CommentedMap:
    node = CommentedMap()
    node["provider"] = answers.provider
    node["project"] = answers.project
    owner = "org-id" if answers.vercel else "account-id"
    node[owner] = DoubleQuotedScalarString(answers.owner)
    node["install"] = answers.install
    node["build"] = answers.build
    if not answers.vercel:
        node["output"] = answers.output or "dist"
        node["production-branch"] = answers.branch
        add_comment(node, "output", "the folder build writes, uploaded as it is", 2)
        add_comment(node, "production-branch", "the Pages project's production branch", 2)
    if answers.node_version:
        node["node-version"] = DoubleQuotedScalarString(answers.node_version)
    for key in ("project", owner):
        if PLACEHOLDERS.get(f"site.{key}") == node[key]:
            add_comment(node, key, "placeholder: set it", 2)
    return node


def build_environment(environment: SiteEnvironmentAnswers) -> CommentedMap:
    node = CommentedMap()
    node["name"] = environment.name
    if environment.url is not None:
        node["url"] = environment.url
    node["approval"] = environment.approval
    node["smoke"] = CommentedMap(path=environment.smoke_path)
    if environment.e2e is not None:
        node["e2e"] = CommentedMap(run=environment.e2e)
    if environment.url is None:
        node.yaml_set_comment_before_after_key(
            "approval", before="No url: tested at the new deployment's own URL.", indent=4
        )
    return node
