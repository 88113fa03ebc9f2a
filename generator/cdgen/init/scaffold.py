"""The text of a new, commented `cdgen.yml` for `cdgen init`."""

from __future__ import annotations

import io

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
_APPROVAL_COMMENTS = {
    "none": "deploys without waiting (continuous deployment)",
    "reviewers": "each deploy waits for the environment's required reviewers",
    "manual": "deployed only by a workflow_dispatch promotion of a tested digest",
}


def render_descriptor(answers: InitAnswers) -> str:
    """The commented YAML text of `answers`; the same answers give the same bytes."""
    root = CommentedMap()
    root["version"] = 1
    root["name"] = answers.name
    root["branch"] = answers.branch
    root["image"] = build_image(answers.image)
    root["environments"] = CommentedSeq(build_environment(e) for e in answers.environments)
    root.yaml_set_start_comment(HEADER)
    add_comment(root, "version", "descriptor format", 0)
    add_comment(root, "name", "service name; the default Deployment and container", 0)
    add_comment(root, "branch", "pushes to this branch build and deploy", 0)
    root.yaml_set_comment_before_after_key(
        "image",
        before="\nThe image: built once per commit, tested inside itself, pushed tagged with\n"
        "the commit SHA, and deployed everywhere by its digest (never rebuilt).",
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


def add_comment(node: CommentedMap, key: str, text: str, indent: int) -> None:
    """A comment two spaces after `key: value` on a line indented by `indent`."""
    value = node[key]
    if isinstance(value, bool):
        shown = "true" if value else "false"
    elif isinstance(value, DoubleQuotedScalarString):
        shown = f'"{value}"'
    else:
        shown = str(value)
    node.yaml_add_eol_comment(text, key, column=indent + len(key) + 2 + len(shown) + 2)


def build_image(image: ImageAnswers) -> CommentedMap:
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
        add_comment(node, "test", "runs inside the built image before it is pushed", 2)
    add_comment(node, "registry", _REGISTRY_COMMENTS[image.login.kind if image.login else ""], 2)
    add_comment(node, "tag-latest", "also push :latest for humans; deploys use the digest", 2)
    attest = (
        "provenance: public repositories or GitHub Enterprise Cloud"
        if image.attest
        else "no provenance (private repository): promotions check tag and branch"
    )
    add_comment(node, "attest", attest, 2)
    if image.repository is None:
        node.yaml_set_comment_before_after_key(
            "context", before="repository: acme/api  # default: this GitHub repository", indent=2
        )
    if image.test is None:
        node.yaml_set_comment_before_after_key(
            "tag-latest",
            before="test: npm test  # a command run inside the built image before it is pushed",
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


def build_environment(environment: EnvironmentAnswers) -> CommentedMap:
    node = CommentedMap()
    node["name"] = environment.name
    node["url"] = environment.url
    node["approval"] = environment.approval
    node["kubernetes"] = build_kubernetes(environment.kubernetes)
    node["smoke"] = build_smoke(environment.smoke)
    if PLACEHOLDER_URLS.get(environment.name) == environment.url:
        add_comment(node, "url", "placeholder: set the real URL", 4)
    add_comment(node, "approval", _APPROVAL_COMMENTS[environment.approval], 4)
    node.yaml_set_comment_before_after_key(
        "smoke",
        before="After each deploy: url + path must answer HTTP 200, or the deploy is rolled back.",
        indent=4,
    )
    if environment.canary is not None:
        node["canary"] = build_canary(environment.canary)
        node.yaml_set_comment_before_after_key(
            "canary",
            before="A canary first: a share of the traffic, watched by Prometheus, aborted (and\n"
            "removed) at the first bad reading; the full rollout only after every step.",
            indent=4,
        )
    if environment.e2e is not None:
        node["e2e"] = build_e2e(environment.e2e)
        node.yaml_set_comment_before_after_key(
            "e2e",
            before="End-to-end tests after each deploy (BASE_URL and DEPLOYED_SHA are set).",
            indent=4,
        )
    return node


def build_kubernetes(kubernetes: KubernetesAnswers) -> CommentedMap:
    node = CommentedMap()
    node["kubeconfig-secret"] = kubernetes.kubeconfig_secret
    node["namespace"] = kubernetes.namespace
    node["deployment"] = kubernetes.deployment
    node["container"] = kubernetes.container
    node["rollout-timeout"] = kubernetes.rollout_timeout
    add_comment(node, "kubeconfig-secret", "environment secret holding a kubeconfig", 6)
    add_comment(node, "rollout-timeout", "a slower rollout is undone", 6)
    return node


def build_smoke(smoke: SmokeAnswers) -> CommentedMap:
    node = CommentedMap()
    node["path"] = smoke.path
    node["retries"] = smoke.retries
    node["interval"] = smoke.interval
    node["expect-version"] = smoke.expect_version
    add_comment(node, "expect-version", "true: the response must show the deployed commit", 6)
    return node


def build_e2e(e2e: E2eAnswers) -> CommentedMap:
    node = CommentedMap()
    node["run"] = e2e.run
    if e2e.node_version is not None:
        node["node-version"] = DoubleQuotedScalarString(e2e.node_version)
        add_comment(node, "node-version", "sets up Node.js and runs npm ci first", 6)
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
