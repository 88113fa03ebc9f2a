"""The text of a new, commented `cdgen.yml` for `cdgen init`."""

from __future__ import annotations

import io
from collections.abc import Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from cdgen import __version__
from cdgen.cloud import AwsRole, Login, SecretLogin
from cdgen.init.answers import (
    PLACEHOLDER_URLS,
    E2eAnswers,
    EnvironmentAnswers,
    ImageAnswers,
    InitAnswers,
    KubernetesAnswers,
    SmokeAnswers,
)
from cdgen.init.canary import CanaryAnswers
from cdgen.init.commented import add_comment, with_source
from cdgen.init.scaffold_services import SERVICES, SHARED_IMAGE, build_services

__all__ = ["HEADER", "SCHEMA_URL", "dump_yaml", "render_descriptor"]
SCHEMA_URL = (
    "https://raw.githubusercontent.com/cdgen-dev/cdgen/"
    f"v{__version__.split('.')[0]}/schemas/cdgen.schema.json"
)
HEADER = (
    f"yaml-language-server: $schema={SCHEMA_URL}\n"
    "The continuous-deployment pipeline of this repository, read by cdgen.\n"
    "After editing, run `cdgen generate` and commit the result; `cdgen check` fails while\n"
    "the generated workflows are stale."
)
_REGISTRY_COMMENTS = {
    "": "GitHub's registry, with the workflow's own token; others take a login",
    "aws": "the manifests' ECR registry; init printed how to create the push role",
    "secrets": "the manifests' Docker Hub; init printed how to set the two secrets",
}
_ATTEST = {
    True: "provenance: public repositories or GitHub Enterprise Cloud",
    False: "no provenance (private repository): promotions check tag and branch",
}
_NAME = "service name; the default Deployment and container"
_SMOKE = {
    False: "After each deploy: url + path must answer HTTP 200, or the deploy is rolled back.",
    True: "After each deploy: url + each service's smoke path (this one unless it has its own)\n"
    "must answer HTTP 200, or every service this run changed here is rolled back.",
}
_APPROVAL_COMMENTS = {
    "none": "deploys without waiting (continuous deployment)",
    "reviewers": "each deploy waits for the environment's required reviewers",
    "manual": "deployed only by a workflow_dispatch promotion of a tested digest",
}


def render_descriptor(answers: InitAnswers) -> str:
    """The commented YAML text of `answers`; the same answers give the same bytes."""
    sources = answers.sources
    root = CommentedMap()
    root["version"] = 1
    root["name"] = answers.name
    root["branch"] = answers.branch
    if answers.services:
        root["image"] = build_shared_image(answers.image)
        root["services"] = build_services(answers.services)
    else:
        root["image"] = build_image(answers.image, sources, answers.remarks)
    root["environments"] = CommentedSeq(
        build_environment(e, sources, shared=bool(answers.services)) for e in answers.environments
    )
    root.yaml_set_start_comment(HEADER)
    add_comment(root, "version", "descriptor format", 0)
    name = "the project; each service names its own Deployment" if answers.services else _NAME
    add_comment(root, "name", with_source(name, sources.get("name")), 0)
    add_comment(root, "branch", "pushes to this branch build and deploy", 0)
    if answers.services:
        root.yaml_set_comment_before_after_key("image", before=SHARED_IMAGE)
        root.yaml_set_comment_before_after_key("services", before=SERVICES)
    else:
        root.yaml_set_comment_before_after_key(
            "image",
            before="\nThe image: built once per commit, tested inside itself, pushed tagged "
            "with\nthe commit SHA, and deployed everywhere by its digest (never rebuilt).",
        )
    root.yaml_set_comment_before_after_key(
        "environments",
        before="\nEnvironments in promotion order: each deploys only after the one before it\n"
        "succeeded. Each is a GitHub environment holding its own kubeconfig secret.",
    )
    return dump_yaml(root)


def dump_yaml(root: CommentedMap) -> str:
    yaml = YAML()  # round-trip, so the comments are written
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # long commands stay on one line
    stream = io.StringIO()
    yaml.dump(root, stream)
    return stream.getvalue()


def build_image(
    image: ImageAnswers,
    sources: Mapping[str, str] | None = None,
    remarks: Mapping[str, str] | None = None,
) -> CommentedMap:
    sources, remarks = sources or {}, remarks or {}
    node = CommentedMap()
    node["registry"] = image.registry
    if image.login is not None:
        node["login"] = build_login(image.login)
    if image.repository is not None:
        node["repository"] = image.repository
    node["context"] = image.context
    node["dockerfile"] = image.dockerfile
    platforms = CommentedSeq(image.platforms)
    platforms.fa.set_flow_style()
    node["platforms"] = platforms
    node["tag-latest"] = image.tag_latest
    node["attest"] = image.attest
    if image.test is not None:
        node["test"] = image.test
        what = "runs inside the built image before it is pushed"
        add_comment(node, "test", with_source(what, sources.get("image.test")), 2)
    if image.test_stage is not None:
        node["test-stage"] = image.test_stage
        what = "a Dockerfile stage, built before the push: its build runs the tests"
        add_comment(node, "test-stage", with_source(what, sources.get("image.test-stage")), 2)
    for key in ("context", "dockerfile"):
        if f"image.{key}" in sources:
            add_comment(node, key, with_source(None, sources[f"image.{key}"]), 2)
    add_comment(node, "registry", _REGISTRY_COMMENTS[image.login.kind if image.login else ""], 2)
    add_comment(node, "tag-latest", "also push :latest for humans; deploys use the digest", 2)
    add_comment(node, "attest", _ATTEST[image.attest], 2)
    if image.repository is None:
        node.yaml_set_comment_before_after_key(
            "context", before="repository: acme/api  # default: this GitHub repository", indent=2
        )
    if image.test is None:
        placeholder = "test: npm test  # a command run inside the built image before it is pushed"
        shown = remarks.get("image.test", placeholder)
        node.yaml_set_comment_before_after_key("tag-latest", before=shown, indent=2)
    return node


def build_shared_image(image: ImageAnswers) -> CommentedMap:
    """The services form's top-level image: what every service's image shares."""
    node = CommentedMap()
    node["registry"] = image.registry
    if image.login is not None:
        node["login"] = build_login(image.login)
    if image.repository is not None:
        node["repository"] = image.repository
        add_comment(node, "repository", "each service's image: <repository>/<its name>", 2)
    node["tag-latest"] = image.tag_latest
    node["attest"] = image.attest
    add_comment(node, "registry", _REGISTRY_COMMENTS[image.login.kind if image.login else ""], 2)
    add_comment(node, "tag-latest", "also push :latest for humans; deploys use the digest", 2)
    add_comment(node, "attest", _ATTEST[image.attest], 2)
    if image.repository is None:
        node.yaml_set_comment_before_after_key(
            "tag-latest",
            before="repository: acme/shop  # default: this GitHub repository; each service's "
            "image: <repository>/<its name>",
            indent=2,
        )
    return node


def build_login(login: Login) -> CommentedMap:
    """The registry login, written in full: every field is the descriptor's own key."""
    node = CommentedMap()
    if isinstance(login, AwsRole):
        node["aws"] = CommentedMap([("role", login.role), ("region", login.region)])
    elif isinstance(login, SecretLogin):
        node["username-secret"] = login.username_secret
        node["password-secret"] = login.password_secret
    return node


def build_environment(
    environment: EnvironmentAnswers, sources: Mapping[str, str] | None = None, shared: bool = False
) -> CommentedMap:
    """An environment; `shared`: with services, whose Deployments are their own."""
    sources = sources or {}
    where = {
        "namespace": sources.get(f"environments.{environment.name}.namespace"),
        "deployment": sources.get("kubernetes.deployment"),
    }
    node = CommentedMap()
    node["name"] = environment.name
    node["url"] = environment.url
    node["approval"] = environment.approval
    node["kubernetes"] = build_kubernetes(environment.kubernetes, where)
    node["smoke"] = build_smoke(environment.smoke)
    if PLACEHOLDER_URLS.get(environment.name) == environment.url:
        add_comment(node, "url", "placeholder: set the real URL", 4)
    add_comment(node, "approval", _APPROVAL_COMMENTS[environment.approval], 4)
    if "smoke.path" in sources:
        add_comment(node["smoke"], "path", with_source(None, sources["smoke.path"]), 6)
    node.yaml_set_comment_before_after_key("smoke", before=_SMOKE[shared], indent=4)
    if environment.canary is not None:
        node["canary"] = build_canary(environment.canary)
        node.yaml_set_comment_before_after_key(
            "canary",
            before="A canary first: a share of the traffic, watched by Prometheus, aborted (and\n"
            "removed) at the first bad reading; the full rollout only after every step.",
            indent=4,
        )
    if environment.e2e is not None:
        node["e2e"] = build_e2e(environment.e2e, sources)
        node.yaml_set_comment_before_after_key(
            "e2e",
            before="End-to-end tests after each deploy (BASE_URL and DEPLOYED_SHA are set).",
            indent=4,
        )
    return node


def build_kubernetes(
    kubernetes: KubernetesAnswers, sources: Mapping[str, str | None] | None = None
) -> CommentedMap:
    node = CommentedMap()
    node["kubeconfig-secret"] = kubernetes.kubeconfig_secret
    node["namespace"] = kubernetes.namespace
    if kubernetes.deployment is not None:
        node["deployment"] = kubernetes.deployment
    if kubernetes.container is not None:
        node["container"] = kubernetes.container
    node["rollout-timeout"] = kubernetes.rollout_timeout
    add_comment(node, "kubeconfig-secret", "environment secret holding a kubeconfig", 6)
    add_comment(node, "rollout-timeout", "a slower rollout is undone", 6)
    for key, source in (sources or {}).items():
        if key in node and source is not None:
            add_comment(node, key, with_source(None, source), 6)
    return node


def build_smoke(smoke: SmokeAnswers) -> CommentedMap:
    node = CommentedMap()
    node["path"] = smoke.path
    node["retries"] = smoke.retries
    node["interval"] = smoke.interval
    node["expect-version"] = smoke.expect_version
    add_comment(node, "expect-version", "true: the response must show the deployed commit", 6)
    return node


def build_e2e(e2e: E2eAnswers, sources: Mapping[str, str] | None = None) -> CommentedMap:
    sources = sources or {}
    node = CommentedMap()
    node["run"] = e2e.run
    if "e2e.run" in sources:
        add_comment(node, "run", with_source(None, sources["e2e.run"]), 6)
    if e2e.node_version is not None:
        node["node-version"] = DoubleQuotedScalarString(e2e.node_version)
        what = "sets up Node.js and runs npm ci first"
        add_comment(node, "node-version", with_source(what, sources.get("e2e.node-version")), 6)
    node["rollback-on-failure"] = e2e.rollback_on_failure
    add_comment(node, "rollback-on-failure", "failed tests roll back to the previous image", 6)
    return node


def build_canary(canary: CanaryAnswers) -> CommentedMap:
    node = CommentedMap()
    node["traffic"] = canary.traffic
    if canary.route is not None:
        node["route"] = canary.route
    steps = CommentedSeq(canary.steps)
    steps.fa.set_flow_style()
    node["steps"] = steps
    node["pause"] = canary.pause
    analysis = CommentedMap()
    analysis["prometheus"] = canary.prometheus
    analysis["interval"] = canary.interval
    analysis["on-no-data"] = "fail"
    metrics = CommentedSeq()
    for metric in canary.metrics:
        entry = CommentedMap()
        entry["name"], entry["query"], entry["max"] = metric.name, metric.query, metric.max
        metrics.append(entry)
    analysis["metrics"] = metrics
    node["analysis"] = analysis
    traffic = {
        "replicas": "canary pods behind the stable Service; gateway: HTTPRoute weights",
        "gateway": "exact shares by the HTTPRoute's weights",
    }[canary.traffic]
    add_comment(node, "traffic", traffic, 6)
    add_comment(node, "pause", "per step, checked every interval", 6)
    add_comment(analysis, "on-no-data", "no requests reached the canary: abort", 8)
    analysis.yaml_set_comment_before_after_key(
        "metrics",
        before=f"Written for {canary.library}; $canary is the canary Deployment.",
        indent=8,
    )
    return node
