"""What `cdgen init` writes: defaults from detection, the questions for the rest.

The flow is `questions(d)` → the CLI prompts (or takes each default with `--yes`) →
`answers_from_detection(d, {key: answer})` → `render_descriptor(answers)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from cdgen import rules
from cdgen.cloud import Login
from cdgen.init.canary import CanaryAnswers, build_canary, offer
from cdgen.init.detect import Deployment, Detection
from cdgen.init.registry import Registry, detect_registry
from cdgen.resources import schema_defaults

Approval = Literal["reviewers", "manual", "none"]
APPROVALS: tuple[Approval, ...] = ("reviewers", "manual", "none")
STAGING, PRODUCTION = "staging", "production"
PLACEHOLDER_URLS = {STAGING: "https://staging.example.com", PRODUCTION: "https://example.com"}
DEFAULT_NAME = "app"
# init's own choices, where it writes more than the schema's default:
INIT_APPROVAL: Approval = "reviewers"  # production waits for a person
INIT_ROLLBACK_ON_FAILURE = True  # a failed e2e run takes staging back
_ENV_ALIASES = {STAGING: {"staging", "stage", "stg"}, PRODUCTION: {"production", "prod", "prd"}}
_ALL_ALIASES = _ENV_ALIASES[STAGING] | _ENV_ALIASES[PRODUCTION]
# Which rule checks an answer, by the last part of its key.
_OPTIONAL = frozenset(
    {
        "image.test",
        "kubernetes.deployment",
        "environments.staging.e2e",
        "environments.production.canary",
    }
)
_RULE_OF_FIELD = {
    "test": "command",
    "e2e": "command",
    "deployment": "name",
    "path": "smoke-path",
    "attest": "yes-no",
    "canary": "url",  # the Prometheus that judges it
}


def schema_default(*where: str) -> Callable[[], Any]:
    """A dataclass default read from the schema, the one source of every default."""
    *mapping, key = where
    return lambda: schema_defaults(*mapping)[key]


@dataclass(frozen=True)
class ImageAnswers:
    repository: str | None  # None: the GitHub repository, lowercased, at run time
    context: str = field(default_factory=schema_default("image", "context"))
    dockerfile: str = field(default_factory=schema_default("image", "dockerfile"))
    test: str | None = None
    registry: str = field(default_factory=schema_default("image", "registry"))
    platforms: tuple[str, ...] = field(
        default_factory=lambda: tuple(schema_defaults("image")["platforms"])
    )
    tag_latest: bool = field(default_factory=schema_default("image", "tag-latest"))
    attest: bool = field(default_factory=schema_default("image", "attest"))
    login: Login | None = None  # None: ghcr.io, with the workflow's own token


_K8S = ("environments", "[]", "kubernetes")
_SMOKE = ("environments", "[]", "smoke")


@dataclass(frozen=True)
class KubernetesAnswers:
    namespace: str
    deployment: str
    container: str
    kubeconfig_secret: str = field(default_factory=schema_default(*_K8S, "kubeconfig-secret"))
    rollout_timeout: str = field(default_factory=schema_default(*_K8S, "rollout-timeout"))


@dataclass(frozen=True)
class SmokeAnswers:
    path: str = field(default_factory=schema_default(*_SMOKE, "path"))
    retries: int = field(default_factory=schema_default(*_SMOKE, "retries"))
    interval: str = field(default_factory=schema_default(*_SMOKE, "interval"))
    expect_version: bool = field(default_factory=schema_default(*_SMOKE, "expect-version"))


@dataclass(frozen=True)
class E2eAnswers:
    run: str
    node_version: str | None = None
    rollback_on_failure: bool = INIT_ROLLBACK_ON_FAILURE


@dataclass(frozen=True)
class EnvironmentAnswers:
    name: str
    url: str
    approval: Approval
    kubernetes: KubernetesAnswers
    smoke: SmokeAnswers
    e2e: E2eAnswers | None = None
    canary: CanaryAnswers | None = None


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
    when: tuple[str, str] | None = None  # (key, answer): asked only after that answer

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
    if d.pick_deployment(values["name"]) is None:
        text = "Kubernetes Deployment to update (empty: the service name)"
        asked.append(Question("kubernetes.deployment", text, "", "name", optional=True))
    deployment = d.pick_deployment(values["name"])
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
    text = (
        "Attest build provenance? Needs a public repository or GitHub Enterprise Cloud; "
        "without, promotions check the image's tag and branch instead (yes | no)"
    )
    asked.append(Question("image.attest", text, values["image.attest"], "yes-no"))
    asked.append(Question(env_key(PRODUCTION, "canary"), offer(d), "", "url", optional=True))
    return asked


def default_values(d: Detection) -> dict[str, str]:
    name = default_name(d)
    deployment = d.pick_deployment(name)
    branch = d.branch if d.branch and rules.is_valid("branch", d.branch) else None
    values = {
        "name": name,
        "branch": branch or schema_defaults()["branch"],
        "image.test": d.test_command or "",
        "kubernetes.deployment": deployment.name if deployment else "",
        "smoke.path": d.probe_path(deployment.name if deployment else name)
        or schema_defaults(*_SMOKE)["path"],
        env_key(STAGING, "e2e"): d.node.e2e if d.node and d.node.e2e else "",
        env_key(PRODUCTION, "approval"): INIT_APPROVAL,
        "image.attest": "yes" if schema_defaults("image")["attest"] else "no",
        env_key(PRODUCTION, "canary"): "",  # init offers a canary; it takes a Prometheus
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
    container = d.pick_container(deployment)
    registry, note = detect_registry(container.image if container else None, name)
    notes += [note] if note else []
    environments = tuple(
        build_environment(d, values, env, deployment, container.name if container else deployment)
        for env in (STAGING, PRODUCTION)
    )
    prometheus = values.get(env_key(PRODUCTION, "canary"), "")
    if prometheus:
        canary = build_canary(d, prometheus, deployment, notes)
        environments = (environments[0], replace(environments[1], canary=canary))
    return InitAnswers(
        name=name,
        branch=values["branch"],
        github_repository=d.remote.slug if d.remote else None,
        image=build_image(d, values, registry),
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
    container = d.pick_container(deployment)
    if chosen and container and len(chosen[0].containers) > 1:
        notes.append(
            f"Deployment {deployment!r} has containers {', '.join(chosen[0].container_names)}; "
            f"cdgen sets the image of {container.name!r} (kubernetes.container)."
        )
    path = container.probe_path if container else None
    if container and path and (problem := rules.check_value("smoke-path", path)):
        notes.append(
            f"{chosen[0].file}: the readiness probe path {path!r} of {container.name!r} "
            f"cannot be smoke.path ({problem})."
        )
    if chosen and all(x.namespace is None for x in chosen):
        notes.append(
            f"{chosen[0].file}: Deployment {deployment!r} sets no namespace; check "
            "kubernetes.namespace in each environment."
        )
    return notes


def build_image(
    d: Detection, values: Mapping[str, str], registry: Registry | None = None
) -> ImageAnswers:
    """The image answers, on the registry the manifests already use when init can log in."""
    repository = rules.to_image_repository(d.remote.slug) if d.remote else None
    image = ImageAnswers(
        repository=repository,
        context=d.dockerfile.context if d.dockerfile else ".",
        dockerfile=d.dockerfile.path if d.dockerfile else "Dockerfile",
        test=values["image.test"] or None,
        attest=values["image.attest"] == "yes",
    )
    if registry is None:
        return image
    return replace(
        image, registry=registry.host, repository=registry.repository, login=registry.login
    )


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
