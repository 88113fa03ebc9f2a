"""What `cdgen init` writes: defaults from detection, the questions for the rest.

The flow is `questions(d)` → the CLI prompts (or takes each default with `--yes`) →
`answers_from_detection(d, {key: answer})` → `render_descriptor(answers)`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cdgen import rules
from cdgen.detect import Deployment, Detection

Approval = Literal["reviewers", "manual", "none"]
APPROVALS: tuple[Approval, ...] = ("reviewers", "manual", "none")
STAGING, PRODUCTION = "staging", "production"
PLACEHOLDER_URLS = {STAGING: "https://staging.example.com", PRODUCTION: "https://example.com"}
DEFAULT_BRANCH = "main"
DEFAULT_NAME = "app"
_ENV_ALIASES = {STAGING: {"staging", "stage", "stg"}, PRODUCTION: {"production", "prod", "prd"}}
_ALL_ALIASES = _ENV_ALIASES[STAGING] | _ENV_ALIASES[PRODUCTION]
# Which rule checks an answer, by the last part of its key.
_OPTIONAL = frozenset({"image.test", "kubernetes.deployment", "environments.staging.e2e"})
_RULE_OF_FIELD = {"test": "command", "e2e": "command", "deployment": "name", "path": "smoke-path"}


@dataclass(frozen=True)
class ImageAnswers:
    repository: str | None  # None: the GitHub repository, lowercased, at run time
    context: str = "."
    dockerfile: str = "Dockerfile"
    test: str | None = None
    registry: str = "ghcr.io"
    platforms: tuple[str, ...] = ("linux/amd64",)
    tag_latest: bool = True


@dataclass(frozen=True)
class KubernetesAnswers:
    namespace: str
    deployment: str
    container: str
    kubeconfig_secret: str = "KUBE_CONFIG"  # noqa: S105 (a secret's name, not its value)
    rollout_timeout: str = "5m"


@dataclass(frozen=True)
class SmokeAnswers:
    path: str = "/health"
    retries: int = 5
    interval: str = "10s"
    expect_version: bool = False


@dataclass(frozen=True)
class E2eAnswers:
    run: str
    node_version: str | None = None
    rollback_on_failure: bool = True


@dataclass(frozen=True)
class EnvironmentAnswers:
    name: str
    url: str
    approval: Approval
    kubernetes: KubernetesAnswers
    smoke: SmokeAnswers
    e2e: E2eAnswers | None = None


@dataclass(frozen=True)
class InitAnswers:
    name: str
    branch: str
    github_repository: str | None  # owner/name for the gh commands; None: unknown
    image: ImageAnswers
    environments: tuple[EnvironmentAnswers, ...]
    notes: tuple[str, ...] = ()  # detection notes, then problems with the overrides


@dataclass(frozen=True)
class Question:
    key: str
    prompt: str
    default: str
    rule: str  # a name in rules.RULE_NAMES
    optional: bool = False  # an empty answer leaves the setting out

    def check(self, answer: str) -> str | None:
        """Why `answer` cannot be used, or None when it can."""
        if self.optional and not answer.strip():
            return None
        return rules.check_value(self.rule, answer)


def env_key(environment: str, field: str) -> str:
    return f"environments.{environment}.{field}"


def questions(d: Detection) -> list[Question]:
    """What to ask, in order: everything detection could not settle, with defaults."""
    values = default_values(d)
    asked = [
        Question("name", "Service name", values["name"], "name"),
        Question("branch", "Branch whose pushes deploy", values["branch"], "branch"),
    ]
    if d.test_command is None:
        text = "Command that tests the built image, run inside it (empty: none)"
        asked.append(Question("image.test", text, "", "command", optional=True))
    if pick_deployment(d, values["name"]) is None:
        text = "Kubernetes Deployment to update (empty: the service name)"
        asked.append(Question("kubernetes.deployment", text, "", "name", optional=True))
    deployment = pick_deployment(d, values["name"])
    for env in (STAGING, PRODUCTION):
        if detect_namespace(d, deployment, env) is None:
            key = env_key(env, "namespace")
            asked.append(Question(key, f"Kubernetes namespace in {env}", values[key], "name"))
        key = env_key(env, "url")
        asked.append(Question(key, f"Public URL of {env}", values[key], "url"))
    asked.append(Question("smoke.path", "Health-check path", values["smoke.path"], "smoke-path"))
    if d.node is None or d.node.e2e is None:
        text = "End-to-end test command run against staging (empty: none)"
        asked.append(Question(env_key(STAGING, "e2e"), text, "", "command", optional=True))
    key = env_key(PRODUCTION, "approval")
    text = "How production deploys are approved (reviewers | manual | none)"
    asked.append(Question(key, text, values[key], "approval"))
    return asked


def default_values(d: Detection) -> dict[str, str]:
    name = default_name(d)
    deployment = pick_deployment(d, name)
    values = {
        "name": name,
        "branch": d.branch if d.branch and rules.is_valid("branch", d.branch) else DEFAULT_BRANCH,
        "image.test": d.test_command or "",
        "kubernetes.deployment": deployment.name if deployment else "",
        "smoke.path": "/health",
        env_key(STAGING, "e2e"): d.node.e2e if d.node and d.node.e2e else "",
        env_key(PRODUCTION, "approval"): "reviewers",
    }
    for env in (STAGING, PRODUCTION):
        values[env_key(env, "url")] = PLACEHOLDER_URLS[env]
        values[env_key(env, "namespace")] = detect_namespace(d, deployment, env) or env
    return values


def default_name(d: Detection) -> str:
    """The repository's name, else the package's, else the directory's, as a DNS label."""
    candidates = [d.remote.name if d.remote else None, d.package_name, d.root.resolve().name]
    for candidate in candidates:
        label = rules.to_dns_label(candidate or "")
        if label:
            return label
    return DEFAULT_NAME


def pick_deployment(d: Detection, name: str) -> Deployment | None:
    """The detected Deployment named like the service, else the first usable one."""
    usable = [x for x in d.deployments if rules.is_valid("name", x.name)]
    return next((x for x in usable if x.name == name), usable[0] if usable else None)


def detect_namespace(d: Detection, deployment: Deployment | None, env: str) -> str | None:
    """The namespace of the environment's own manifest, else of a shared one."""
    same = [x for x in d.deployments if deployment is None or x.name == deployment.name]
    namespaced = [x for x in same if x.namespace and rules.is_valid("name", x.namespace)]
    own = [x for x in namespaced if name_words(x) & _ENV_ALIASES[env]]
    shared = [x for x in namespaced if not name_words(x) & _ALL_ALIASES]
    chosen = own or shared
    return chosen[0].namespace if chosen else None


def name_words(deployment: Deployment) -> set[str]:
    """The words of a Deployment's namespace and file path (`k8s/prod/app.yaml`: k8s, prod…)."""
    return set(re.split(r"[^a-z0-9]+", f"{deployment.namespace} {deployment.file}".lower()))


def answers_from_detection(d: Detection, overrides: Mapping[str, str] | None = None) -> InitAnswers:
    """The answers for `cdgen init`: defaults from `d`, replaced by valid `overrides`.

    `overrides` maps question keys to the user's answers; an answer that breaks the
    descriptor's rules is ignored and explained in `notes`, so `--yes` never fails.
    """
    values = default_values(d)
    notes = list(d.notes)
    for key, answer in sorted((overrides or {}).items()):
        if key not in values:
            notes.append(f"{key}: not a setting cdgen init asks about; ignored.")
            continue
        field = key.rsplit(".", 1)[-1]
        rule = _RULE_OF_FIELD.get(field, field)
        problem = Question(key, key, values[key], rule, optional=key in _OPTIONAL).check(answer)
        if problem is None:
            values[key] = answer.strip()
        else:
            notes.append(f"{key}: {answer!r} {problem}; using {values[key]!r} instead.")
    return build_answers(d, values, notes)


def build_answers(d: Detection, values: Mapping[str, str], notes: list[str]) -> InitAnswers:
    name = values["name"]
    deployment = values["kubernetes.deployment"] or name
    notes += explain_kubernetes(d, deployment)
    environments = tuple(
        build_environment(d, values, env, deployment, pick_container(d, deployment))
        for env in (STAGING, PRODUCTION)
    )
    return InitAnswers(
        name=name,
        branch=values["branch"],
        github_repository=d.remote.slug if d.remote else None,
        image=build_image(d, values),
        environments=environments,
        notes=tuple(notes),
    )


def explain_kubernetes(d: Detection, deployment: str) -> list[str]:
    """Notes on detected Kubernetes objects cdgen.yml does not use as they are."""
    notes = [
        f"{x.file}: Deployment {x.name!r} cannot be named in cdgen.yml ({problem}); "
        "set kubernetes.deployment by hand."
        for x in d.deployments
        if (problem := rules.check_value("name", x.name))
    ]
    others = sorted({x.name for x in d.deployments if x.name != deployment})
    if others and any(x.name == deployment for x in d.deployments):
        notes.append(f"Using Deployment {deployment!r}; also found: {', '.join(others)}.")
    chosen = [x for x in d.deployments if x.name == deployment]
    if chosen and len(chosen[0].containers) > 1:
        notes.append(
            f"Deployment {deployment!r} has containers {', '.join(chosen[0].containers)}; "
            f"cdgen sets the image of {pick_container(d, deployment)!r} (kubernetes.container)."
        )
    if chosen and all(x.namespace is None for x in chosen):
        notes.append(
            f"{chosen[0].file}: Deployment {deployment!r} sets no namespace; check "
            "kubernetes.namespace in each environment."
        )
    return notes


def build_image(d: Detection, values: Mapping[str, str]) -> ImageAnswers:
    repository = rules.to_image_repository(d.remote.slug) if d.remote else None
    return ImageAnswers(
        repository=repository,
        context=d.dockerfile.context if d.dockerfile else ".",
        dockerfile=d.dockerfile.path if d.dockerfile else "Dockerfile",
        test=values["image.test"] or None,
    )


def pick_container(d: Detection, deployment: str) -> str:
    """The container named like the Deployment, else its first valid one, else its name."""
    found = next((x for x in d.deployments if x.name == deployment), None)
    names = [c for c in (found.containers if found else ()) if rules.is_valid("name", c)]
    return deployment if deployment in names or not names else names[0]


def build_environment(
    d: Detection, values: Mapping[str, str], env: str, deployment: str, container: str
) -> EnvironmentAnswers:
    e2e_run = values.get(env_key(env, "e2e"), "")
    node_version = d.node.node_version if d.node else None
    if e2e_run and node_version is None and d.node is not None:
        node_version = "lts/*"  # e2e from package.json needs Node and `npm ci`
    approval = values.get(env_key(env, "approval"), "none")
    return EnvironmentAnswers(
        name=env,
        url=values[env_key(env, "url")],
        approval=next((a for a in APPROVALS if a == approval), "none"),
        kubernetes=KubernetesAnswers(
            namespace=values[env_key(env, "namespace")],
            deployment=deployment,
            container=container,
        ),
        smoke=SmokeAnswers(path=values["smoke.path"]),
        e2e=E2eAnswers(run=e2e_run, node_version=node_version) if e2e_run else None,
    )
