"""Where each of `cdgen init`'s guesses comes from, for the comments of cdgen.yml and its
notes: the namespace of each environment, the Deployment and container, the smoke path,
the test and end-to-end commands and the Node version.

A source is a short phrase naming a file (and what in it), such as
`k8s/app.yaml: its image is ghcr.io/acme/api` or `package.json scripts.test`. A value the
user typed has no source: it is theirs.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import PurePosixPath

from cdgen import rules
from cdgen.init.detect import Deployment, Detection
from cdgen.init.dockerfiles import DockerfileInfo
from cdgen.init.image_tests import TestGuess
from cdgen.init.manifests import image_score

STAGING, PRODUCTION = "staging", "production"
_ENV_ALIASES = {STAGING: {"staging", "stage", "stg"}, PRODUCTION: {"production", "prod", "prd"}}
_ALL_ALIASES = _ENV_ALIASES[STAGING] | _ENV_ALIASES[PRODUCTION]


def env_key(environment: str, field: str) -> str:
    return f"environments.{environment}.{field}"


def detect_namespace(
    deployments: Collection[Deployment], names: Collection[str] | None, env: str
) -> Deployment | None:
    """The manifest giving the environment's namespace: of the Deployments `names` (None:
    any), the one in a file or namespace named for the environment, else a shared one."""
    same = [x for x in deployments if names is None or x.name in names]
    namespaced = [x for x in same if x.namespace and rules.is_valid("name", x.namespace)]
    own = [x for x in namespaced if name_words(x) & _ENV_ALIASES[env]]
    shared = [x for x in namespaced if not name_words(x) & _ALL_ALIASES]
    chosen = own or shared
    return chosen[0] if chosen else None


def name_words(deployment: Deployment) -> set[str]:
    """The words of a Deployment's namespace and file path (`k8s/prod/app.yaml`: k8s, prod…)."""
    return set(re.split(r"[^a-z0-9]+", f"{deployment.namespace} {deployment.file}".lower()))


def deployment_names(d: Detection, name: str) -> set[str] | None:
    """The Deployments whose namespace is the environment's: the services' (None: any), or
    the one service's."""
    if d.services:
        return {s.pairing.deployment.name for s in d.services if s.pairing} or None
    deployment = d.pick_deployment(name)
    return {deployment.name} if deployment else None


def name_source(d: Detection, name: str) -> str | None:
    """Which of the git remote, the package and the folder gave the service's name."""
    if d.remote and rules.to_dns_label(d.remote.name) == name:
        return "the git remote's name"
    for project, file in ((d.node, "package.json"), (d.python, "pyproject.toml")):
        if project and project.name and rules.to_dns_label(project.name) == name:
            return f"{file}'s name"
    if rules.to_dns_label(d.root.resolve().name) == name:
        return "the folder's name"
    return None


def context_source(path: str, context: str) -> str:
    """`the Dockerfile's folder`, or `the folder above docker/` for a tooling folder."""
    folder = PurePosixPath(path).parent
    if folder.as_posix() == context or (context == "." and folder == PurePosixPath()):
        return "the Dockerfile's folder"
    return f"the folder above {folder.relative_to(context).parts[0]}/"


def deployment_source(d: Detection, deployment: str, service: str) -> str | None:
    """Why this Deployment was chosen: it runs the repository's image, it is named like the
    service, or it was the first found."""
    found = [x for x in d.deployments if x.name == deployment]
    if not found:
        return None
    container = d.pick_container(deployment)
    if container is not None and container.image and image_score(container.image, d.slug) > 0:
        return f"{found[0].file}: runs {container.image.split('@', 1)[0]}"
    if deployment == service:
        return f"{found[0].file}: named like the service"
    return f"{found[0].file}: the first Deployment found"


def single_sources(d: Detection, name: str, deployment: str) -> dict[str, str]:
    """The sources of the single service's detected values, by cdgen.yml key."""
    sources: dict[str, str] = {}
    if (source := name_source(d, name)) is not None:
        sources["name"] = source
    sources.update(image_sources(d))
    if (source := deployment_source(d, deployment, name)) is not None:
        sources["kubernetes.deployment"] = source
    container = d.pick_container(deployment)
    if container is not None and d.probe_path(deployment):
        file = next(x.file for x in d.deployments if x.name == deployment)
        sources["smoke.path"] = f"the readiness probe of container {container.name} in {file}"
    for env in (STAGING, PRODUCTION):
        found = detect_namespace(d.deployments, {deployment}, env)
        if found is not None:
            sources[env_key(env, "namespace")] = found.file
    if d.node is not None and d.node.e2e is not None:
        script = d.node.e2e.rsplit(" ", 1)[-1]
        sources["e2e.run"] = f"{package_json(d.node.directory)} scripts.{script}"
        if d.node.version_source:
            sources["e2e.node-version"] = d.node.version_source
    return sources


def image_sources(d: Detection) -> dict[str, str]:
    """The sources of the single image's Dockerfile, context, test and test stage."""
    sources: dict[str, str] = {}
    if d.dockerfile is not None:
        sources["image.dockerfile"] = "a search of the repository"
        sources["image.context"] = context_source(d.dockerfile.path, d.dockerfile.context)
    if d.test is not None and d.test.usable:
        sources["image.test"] = d.test.source
    if (stage := test_stage_guess(d.dockerfile)) is not None:
        sources["image.test-stage"] = stage[1]
    return sources


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


def namespace_notes(d: Detection, chosen: Mapping[str, str]) -> list[str]:
    """When the services' Deployments do not agree on an environment's namespace: an
    environment deploys every service to its one `kubernetes.namespace` (`chosen`)."""
    notes = []
    for env in (STAGING, PRODUCTION):
        spaces: dict[str, str | None] = {}
        for service in d.services:
            if service.pairing is not None:
                name = service.pairing.deployment.name
                found = detect_namespace(d.deployments, {name}, env)
                spaces[service.name] = found.namespace if found else None
        if len(set(spaces.values())) > 1:
            shown = ", ".join(f"{s} in {n or 'none'}" for s, n in sorted(spaces.items()))
            notes.append(
                f"{env}: the services' Deployments name different namespaces ({shown}); "
                f"every service deploys to {chosen[env]!r} (kubernetes.namespace): check it."
            )
    return notes


def shared_sources(d: Detection, name: str) -> dict[str, str]:
    """The sources of the services form's shared values: name, namespaces, e2e."""
    sources: dict[str, str] = {}
    if (source := name_source(d, name)) is not None:
        sources["name"] = source
    names = deployment_names(d, name)
    for env in (STAGING, PRODUCTION):
        found = detect_namespace(d.deployments, names, env)
        if found is not None:
            sources[env_key(env, "namespace")] = found.file
    if d.node is not None and d.node.e2e is not None:
        script = d.node.e2e.rsplit(" ", 1)[-1]
        sources["e2e.run"] = f"{package_json(d.node.directory)} scripts.{script}"
    return sources


def test_remarks(test: TestGuess | None) -> dict[str, str]:
    """What cdgen.yml shows as comments about testing the image: a command found that the
    image cannot run."""
    remarks: dict[str, str] = {}
    if test is not None and test.blocked is not None:
        remarks["image.test"] = f"test: {test.command}  # {test.source}, but {test.blocked}"
    return remarks


def test_stage_guess(dockerfile: DockerfileInfo | None) -> tuple[str, str] | None:
    """The Dockerfile's stage named `test` (in any case, as Docker compares stage names),
    as written, and where: (`Test`, `src/email/Dockerfile:7`)."""
    stage = dockerfile.test_stage if dockerfile else None
    if dockerfile is None or stage is None or stage.name is None:
        return None
    return stage.name, f"{dockerfile.path}:{stage.line}"


def package_json(directory: str) -> str:
    return "package.json" if directory == "." else f"{directory}/package.json"


# Which sources an answer replaces: a value the user typed is no longer a guess.
ANSWERED = {
    "name": ("name",),
    "image.test": ("image.test",),
    "kubernetes.deployment": ("kubernetes.deployment",),
    "smoke.path": ("smoke.path",),
    env_key(STAGING, "namespace"): (env_key(STAGING, "namespace"),),
    env_key(PRODUCTION, "namespace"): (env_key(PRODUCTION, "namespace"),),
    env_key(STAGING, "e2e"): ("e2e.run", "e2e.node-version"),
}


def drop_answered(sources: dict[str, str], answered: Collection[str]) -> dict[str, str]:
    dropped = {source for key in answered for source in ANSWERED.get(key, ())}
    return {key: value for key, value in sources.items() if key not in dropped}
