"""Rendering the pipeline model into the text of each generated file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cdgen import __version__
from cdgen.model import Environment, Pipeline
from cdgen.pins import KUBELOGIN, pin
from cdgen.resources import read_template

if TYPE_CHECKING:
    import jinja2

    from cdgen.site_model import SitePipeline

# Generated file (relative to the output root) -> template rendering it.
OUTPUTS: dict[str, str] = {
    ".github/actionlint.yaml": "actionlint.yaml.j2",
    ".github/dependabot.yml": "dependabot.yml.j2",
    ".github/workflows/cd.yml": "cd.yml.j2",
    ".github/workflows/cdgen.yml": "cdgen.yml.j2",
    ".github/workflows/ci.yml": "ci.yml.j2",
    ".github/workflows/metrics.yml": "metrics.yml.j2",
    ".github/workflows/rollback.yml": "rollback.yml.j2",
}


@dataclass(frozen=True)
class Stage:
    """One environment's place in cd.yml: what it waits for and what it deploys."""

    env: Environment
    manual: bool
    source: str
    needs: tuple[str, ...]
    image: str
    commit: str


def render_pipeline(pipeline: Pipeline | SitePipeline, source: str) -> dict[str, str]:
    """Every generated file's body (without the cdgen header), keyed by relative path.

    `source` is the descriptor's path relative to the repository root.
    """
    env = _environment()
    context: dict[str, Any] = {
        "pipeline": pipeline,
        "action": pipeline.action,
        "cdgen": pipeline.generator,
        "source": source,
        "version": __version__,
    }
    templates = dict(OUTPUTS)
    if isinstance(pipeline, Pipeline):
        context["stages"] = plan_stages(pipeline)
        context["promotion_previous"] = promotion_previous(pipeline)
    else:
        from cdgen.site_render import SITE_TEMPLATES, site_context

        context.update(site_context(pipeline))
        templates = {path: SITE_TEMPLATES.get(name, name) for path, name in OUTPUTS.items()}
    return {
        path: env.get_template(name).render(context)
        for path, name in sorted(templates.items())
        if path not in pipeline.unmanaged and _wanted(pipeline, name)
    }


def _wanted(pipeline: Pipeline | SitePipeline, template: str) -> bool:
    """Whether the descriptor asks for this file: metrics.yml unless `metrics: false`, the
    actionlint configuration only to declare self-hosted runner labels."""
    if template == "metrics.yml.j2":
        return pipeline.metrics
    if template == "actionlint.yaml.j2":
        return bool(pipeline.runner_labels)
    return True


def plan_stages(pipeline: Pipeline) -> list[Stage]:
    stages: list[Stage] = []
    previous: Environment | None = None
    for env in pipeline.environments:
        if env.approval == "manual":
            stages.append(
                Stage(
                    env,
                    manual=True,
                    source="promotion",
                    needs=("promotion",),
                    image=gh("needs.promotion.outputs.image"),
                    commit=gh("needs.promotion.outputs.commit"),
                )
            )
            continue
        needs = ["build"]
        if previous is not None:
            needs.append(f"deploy-{previous.name}")  # its deploy, e2e and rollback: one job
        image = gh("needs.build.outputs.image") + "@" + gh("needs.build.outputs.digest")
        stages.append(Stage(env, False, "build", tuple(needs), image, gh("github.sha")))
        previous = env
    return stages


def promotion_previous(pipeline: Pipeline) -> list[tuple[str, str]]:
    """(manual environment, the environment an image must have passed before it)."""
    pairs = []
    for index, env in enumerate(pipeline.environments):
        if env.approval == "manual" and index > 0:
            pairs.append((env.name, pipeline.environments[index - 1].name))
    return pairs


def gh(expression: str) -> str:
    """A GitHub Actions expression; templates never write `${{` themselves."""
    return "${{ " + expression + " }}"


def gh_string(value: str) -> str:
    """A string literal inside a GitHub expression (single quotes, doubled to escape)."""
    return "'" + value.replace("'", "''") + "'"


def uses(repository: str) -> str:
    """A `uses:` value pinned to a full commit SHA, with its release tag as a comment."""
    p = pin(repository)
    return f"{p.uses} # {p.tag}"


def quote(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML 1.2)."""
    return json.dumps(value, ensure_ascii=False)


def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(read_template),
        undefined=jinja2.StrictUndefined,
        # The output is YAML, not HTML. Free text (commands, paths, the branch, the image
        # repository) and the registry and cloud identifiers (some read as numbers, booleans
        # or null: a cluster named 1e5) go through q(); names, namespaces, URLs and
        # durations are written bare, which is safe only because the schema's patterns admit
        # plain YAML scalars.
        autoescape=False,  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(gh=gh, gh_string=gh_string, uses=uses, q=quote, kubelogin=KUBELOGIN)
    return env
