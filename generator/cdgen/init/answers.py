"""What `cdgen init` writes: defaults from detection, the questions for the rest.

The flow is `questions(d)` → the CLI prompts (or takes each default with `--yes`) →
`answers_from_detection(d, {key: answer})` → `render_descriptor(answers)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from cdgen import rules
from cdgen.init.canary import build_canary, offer
from cdgen.init.detect import DEFAULT_NAME, Detection
from cdgen.init.guesses import (
    PRODUCTION,
    STAGING,
    deployment_names,
    detect_namespace,
    drop_answered,
    env_key,
    explain_kubernetes,
    namespace_notes,
    shared_sources,
    single_sources,
    test_remarks,
    test_stage_guess,
)
from cdgen.init.registry import Registry, detect_registry
from cdgen.init.service_answers import build_services, shared_registry
from cdgen.init.settings import (
    APPROVALS,
    INIT_APPROVAL,
    PLACEHOLDER_URLS,
    SMOKE_SETTINGS,
    Approval,
    E2eAnswers,
    EnvironmentAnswers,
    ImageAnswers,
    InitAnswers,
    KubernetesAnswers,
    SmokeAnswers,
)
from cdgen.resources import schema_defaults

__all__ = [
    "APPROVALS",
    "INIT_APPROVAL",
    "PLACEHOLDER_URLS",
    "PRODUCTION",
    "STAGING",
    "Approval",
    "E2eAnswers",
    "EnvironmentAnswers",
    "ImageAnswers",
    "InitAnswers",
    "KubernetesAnswers",
    "Question",
    "SmokeAnswers",
    "answers_from_detection",
    "default_name",
    "env_key",
    "questions",
]

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


def questions(d: Detection) -> list[Question]:
    """What to ask, in order: everything detection could not settle, with defaults."""
    values = default_values(d)
    what = "Project name (each service is named by its folder)" if d.services else "Service name"
    asked = [
        Question("name", what, values["name"], "name"),
        Question("branch", "Branch whose pushes deploy", values["branch"], "branch"),
    ]
    if d.test_command is None and not d.services:
        text = "Command that tests the built image, run inside it (empty: none)"
        asked.append(Question("image.test", text, "", "command", optional=True))
    if d.pick_deployment(values["name"]) is None and not d.services:
        text = "Kubernetes Deployment to update (empty: the service name)"
        asked.append(Question("kubernetes.deployment", text, "", "name", optional=True))
    for env in (STAGING, PRODUCTION):
        if detect_namespace(d.deployments, deployment_names(d, values["name"]), env) is None:
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
    if not d.services:  # a canary judges one Deployment
        asked.append(Question(env_key(PRODUCTION, "canary"), offer(d), "", "url", optional=True))
    return asked


def default_values(d: Detection) -> dict[str, str]:
    name = default_name(d)
    deployment = None if d.services else d.pick_deployment(name)
    branch = d.branch if d.branch and rules.is_valid("branch", d.branch) else None
    values = {
        "name": name,
        "branch": branch or schema_defaults()["branch"],
        "image.test": d.test_command or "",
        "kubernetes.deployment": deployment.name if deployment else "",
        "smoke.path": default_smoke_path(d, deployment.name if deployment else name),
        env_key(STAGING, "e2e"): d.node.e2e if d.node and d.node.e2e else "",
        env_key(PRODUCTION, "approval"): INIT_APPROVAL,
        "image.attest": "yes" if schema_defaults("image")["attest"] else "no",
        env_key(PRODUCTION, "canary"): "",  # init offers a canary; it takes a Prometheus
    }
    names = deployment_names(d, name)
    for env in (STAGING, PRODUCTION):
        values[env_key(env, "url")] = PLACEHOLDER_URLS[env]
        found = detect_namespace(d.deployments, names, env)
        values[env_key(env, "namespace")] = found.namespace if found and found.namespace else env
    return values


def default_smoke_path(d: Detection, deployment: str) -> str:
    """The single service's HTTP readiness probe path, else the schema's default (with
    services, each service's probe is its own smoke path)."""
    probe = None if d.services else d.probe_path(deployment)
    return probe or str(schema_defaults(*SMOKE_SETTINGS)["path"])


def default_name(d: Detection) -> str:
    """The repository's name, else the package's, else the directory's, as a DNS label."""
    candidates = [d.remote.name if d.remote else None, d.package_name, d.root.resolve().name]
    for candidate in candidates:
        label = rules.to_dns_label(candidate or "")
        if label:
            return label
    return DEFAULT_NAME


def answers_from_detection(d: Detection, overrides: Mapping[str, str] | None = None) -> InitAnswers:
    """The answers for `cdgen init`: defaults from `d`, replaced by valid `overrides`.

    `overrides` maps question keys to the user's answers; an answer that breaks the
    descriptor's rules is ignored and explained in `notes`, so `--yes` never fails.
    """
    values = default_values(d)
    notes = list(d.notes)
    answered: set[str] = set()
    for key, answer in sorted((overrides or {}).items()):
        if key not in values:
            notes.append(f"{key}: not a setting cdgen init asks about; ignored.")
            continue
        field = key.rsplit(".", 1)[-1]
        rule = _RULE_OF_FIELD.get(field, field)
        problem = Question(key, key, values[key], rule, optional=key in _OPTIONAL).check(answer)
        if problem is not None:
            notes.append(f"{key}: {answer!r} {problem}; using {values[key]!r} instead.")
        elif answer.strip() != values[key]:
            values[key] = answer.strip()
            answered.add(key)
    if d.services:
        return build_services_answers(d, values, notes, answered)
    return build_answers(d, values, notes, answered)


def build_answers(
    d: Detection, values: Mapping[str, str], notes: list[str], answered: set[str]
) -> InitAnswers:
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
        sources=drop_answered(single_sources(d, name, deployment), answered),
        remarks=single_remarks(d, values),
    )


def single_remarks(d: Detection, values: Mapping[str, str]) -> dict[str, str]:
    remarks = test_remarks(d.test)
    if values["image.test"]:
        remarks.pop("image.test", None)  # a command the user gave replaces the guess
    return remarks


def build_services_answers(
    d: Detection, values: Mapping[str, str], notes: list[str], answered: set[str]
) -> InitAnswers:
    """The services form: each service's image and Deployment, the environments shared."""
    name = values["name"]
    services = build_services(d, notes)
    registry, repositories, note = shared_registry(d, name)
    notes += [note] if note else []
    if registry is not None:
        services = tuple(
            replace(s, repository=repositories[s.name])
            if repositories[s.name] != f"{registry.repository}/{s.name}"
            else s
            for s in services
        )
    # The image settings the services share: each service has its own build and tests.
    image = replace(
        build_image(d, values, registry),
        context=".",
        dockerfile="Dockerfile",
        test=None,
        test_stage=None,
    )
    namespaces = {e: values[env_key(e, "namespace")] for e in (STAGING, PRODUCTION)}
    return InitAnswers(
        name=name,
        branch=values["branch"],
        github_repository=d.remote.slug if d.remote else None,
        image=image,
        environments=tuple(
            build_environment(d, values, e, None, None) for e in (STAGING, PRODUCTION)
        ),
        notes=tuple(notes + namespace_notes(d, namespaces)),
        services=services,
        sources=drop_answered(shared_sources(d, name), answered),
    )


def build_image(
    d: Detection, values: Mapping[str, str], registry: Registry | None = None
) -> ImageAnswers:
    """The image answers, on the registry the manifests already use when init can log in."""
    repository = rules.to_image_repository(d.remote.slug) if d.remote else None
    stage = test_stage_guess(d.dockerfile)
    image = ImageAnswers(
        repository=repository,
        context=d.dockerfile.context if d.dockerfile else ".",
        dockerfile=d.dockerfile.path if d.dockerfile else "Dockerfile",
        test=values["image.test"] or None,
        test_stage=stage[0] if stage else None,
        attest=values["image.attest"] == "yes",
    )
    if registry is None:
        return image
    return replace(
        image, registry=registry.host, repository=registry.repository, login=registry.login
    )


def build_environment(
    d: Detection,
    values: Mapping[str, str],
    env: str,
    deployment: str | None,
    container: str | None,
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
