from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML
from support.init_repos import make_node_service, make_python_service, write

from cdgen import __version__, rules
from cdgen.init.answers import (
    E2eAnswers,
    EnvironmentAnswers,
    ImageAnswers,
    InitAnswers,
    KubernetesAnswers,
    SmokeAnswers,
    answers_from_detection,
    questions,
)
from cdgen.init.detect import detect_repository
from cdgen.init.scaffold import SCHEMA_URL, render_descriptor

SCHEMA_PATH = Path(__file__).parent.parent / "schemas" / "cdgen.schema.json"


def load(text: str) -> Any:
    return YAML().load(io.StringIO(text))


def assert_schema_valid(text: str) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    data = YAML(typ="safe").load(text)
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(data)]
    assert errors == []


def test_node_service_descriptor(tmp_path: Path) -> None:
    answers = answers_from_detection(detect_repository(make_node_service(tmp_path / "api")))
    text = render_descriptor(answers)
    doc = load(text)

    assert text.splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_URL}"
    assert list(doc) == ["version", "name", "branch", "image", "environments"]
    assert (doc["version"], doc["name"], doc["branch"]) == (1, "api", "main")
    assert dict(doc["image"]) == {
        "registry": "ghcr.io",
        "repository": "acme/api",
        "context": ".",
        "dockerfile": "Dockerfile",
        "platforms": ["linux/amd64"],
        "tag-latest": True,
        "attest": True,
        "test": "npm test",
    }
    staging, production = doc["environments"]
    assert (staging["name"], staging["url"], staging["approval"]) == (
        "staging",
        "https://staging.example.com",
        "none",
    )
    assert (production["name"], production["url"], production["approval"]) == (
        "production",
        "https://example.com",
        "reviewers",
    )
    for environment in (staging, production):
        assert dict(environment["kubernetes"]) == {
            "kubeconfig-secret": "KUBE_CONFIG",
            "namespace": "shop",
            "deployment": "api",
            "container": "api",
            "rollout-timeout": "5m",
        }
        assert dict(environment["smoke"]) == {
            "path": "/health",
            "retries": 5,
            "interval": "10s",
            "expect-version": False,
        }
    assert dict(staging["e2e"]) == {
        "run": "npm run test:e2e",
        "node-version": "22.11.0",
        "rollback-on-failure": True,
    }
    assert "e2e" not in production
    assert_schema_valid(text)
    assert any("log-shipper" in n for n in answers.notes)


def test_comments_explain_each_section(tmp_path: Path) -> None:
    text = render_descriptor(answers_from_detection(detect_repository(make_node_service(tmp_path))))

    comment_lines = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    assert comment_lines[0].startswith("# yaml-language-server:")
    for needle in ("# The image:", "# Environments in promotion order", "# After each deploy"):
        assert any(line.startswith(needle) for line in comment_lines), needle
    assert "name: api  # service name" in text
    assert (
        "approval: reviewers  # each deploy waits for the environment's required reviewers" in text
    )
    assert "url: https://example.com  # placeholder: set the real URL" in text
    # Comments survive a round trip through ruamel, so users keep them when cdgen edits.
    yaml = YAML()
    yaml.preserve_quotes = True
    stream = io.StringIO()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.dump(yaml.load(text), stream)
    assert stream.getvalue() == text


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    root = make_node_service(tmp_path)
    first = render_descriptor(answers_from_detection(detect_repository(root)))
    second = render_descriptor(answers_from_detection(detect_repository(root)))

    assert first == second
    assert first.endswith("\n")
    assert not first.endswith("\n\n")


def test_python_service_descriptor(tmp_path: Path) -> None:
    text = render_descriptor(
        answers_from_detection(detect_repository(make_python_service(tmp_path / "billing")))
    )
    doc = load(text)

    assert doc["name"] == "billing-service"
    assert doc["image"]["repository"] == "acme/billing_service"
    assert (doc["image"]["dockerfile"], doc["image"]["context"]) == ("docker/Dockerfile", ".")
    assert doc["image"]["test"] == "python -m pytest"
    assert [e["kubernetes"]["namespace"] for e in doc["environments"]] == ["finance", "finance"]
    assert [e["kubernetes"]["deployment"] for e in doc["environments"]] == ["billing", "billing"]
    assert all("e2e" not in e for e in doc["environments"])
    assert_schema_valid(text)


def test_empty_directory_descriptor_uses_defaults_and_placeholders(tmp_path: Path) -> None:
    root = tmp_path / "My_New Service"
    root.mkdir()
    answers = answers_from_detection(detect_repository(root))
    text = render_descriptor(answers)
    doc = load(text)

    assert answers.github_repository is None
    assert doc["name"] == "my-new-service"
    assert "repository" not in doc["image"]
    assert "  # repository: acme/api  # default: this GitHub repository\n" in text
    assert "test" not in doc["image"]
    assert "  # test: npm test" in text
    assert [e["kubernetes"]["namespace"] for e in doc["environments"]] == ["staging", "production"]
    assert doc["environments"][0]["kubernetes"]["deployment"] == "my-new-service"
    assert all("e2e" not in e for e in doc["environments"])
    assert any(n.startswith("No Dockerfile found") for n in answers.notes)
    assert_schema_valid(text)


def test_scoped_package_name_becomes_the_service_name(tmp_path: Path) -> None:
    root = tmp_path / "x"
    write(root, "package.json", '{"name": "@acme/Api_Server"}')

    assert answers_from_detection(detect_repository(root)).name == "api-server"


def test_environment_specific_manifests(tmp_path: Path) -> None:
    for folder, namespace in (("staging", "shop-stg"), ("production", "shop-live")):
        write(
            tmp_path,
            f"k8s/{folder}/deploy.yaml",
            f"kind: Deployment\nmetadata: {{name: web, namespace: {namespace}}}\n",
        )

    d = detect_repository(tmp_path)
    namespaces = [e.kubernetes.namespace for e in answers_from_detection(d).environments]

    assert namespaces == ["shop-stg", "shop-live"]
    assert not any(q.key.endswith(".namespace") for q in questions(d))


def test_questions_cover_what_detection_could_not_fill(tmp_path: Path) -> None:
    detected = detect_repository(make_node_service(tmp_path / "api"))
    (tmp_path / "empty").mkdir()
    empty = detect_repository(tmp_path / "empty")  # no project, no Deployment

    assert [q.key for q in questions(detected)] == [
        "name",
        "branch",
        "environments.staging.url",
        "environments.production.url",
        "smoke.path",
        "environments.production.approval",
        "image.attest",
        "environments.production.canary",
    ]
    assert [q.key for q in questions(empty)] == [
        "name",
        "branch",
        "image.test",
        "kubernetes.deployment",
        "environments.staging.namespace",
        "environments.staging.url",
        "environments.production.namespace",
        "environments.production.url",
        "smoke.path",
        "environments.staging.e2e",
        "environments.production.approval",
        "image.attest",
        "environments.production.canary",
    ]
    for question in questions(empty):
        assert question.check(question.default) is None, question.key
        assert question.prompt


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("name", "My Service"),
        ("branch", "main..x"),
        ("environments.staging.url", "ftp://example.com"),
        ("environments.staging.url", "https://example.com/${{ secrets.X }}"),
        ("smoke.path", "health"),
        ("environments.production.approval", "yes"),
        ("image.test", "echo ${{ github.token }}"),
        ("environments.staging.namespace", "Staging"),
    ],
)
def test_questions_refuse_values_the_descriptor_refuses(tmp_path: Path, key: str, bad: str) -> None:
    [question] = [q for q in questions(detect_repository(tmp_path)) if q.key == key]

    assert question.check(bad) is not None


def test_overrides_replace_defaults(tmp_path: Path) -> None:
    d = detect_repository(make_node_service(tmp_path / "api"))
    answers = answers_from_detection(
        d,
        {
            "name": "shop-api",
            "branch": "release/v2",
            "environments.production.url": "https://shop.acme.dev",
            "environments.production.approval": "manual",
            "smoke.path": "/healthz",
            "image.test": "",
        },
    )

    assert (answers.name, answers.branch, answers.image.test) == ("shop-api", "release/v2", None)
    production = answers.environments[1]
    assert (production.url, production.approval) == ("https://shop.acme.dev", "manual")
    assert [e.smoke.path for e in answers.environments] == ["/healthz", "/healthz"]
    # The detected Deployment keeps its own name when the service is renamed.
    assert production.kubernetes.deployment == "api"
    assert_schema_valid(render_descriptor(answers))


def test_invalid_overrides_fall_back_with_notes(tmp_path: Path) -> None:
    answers = answers_from_detection(
        detect_repository(make_node_service(tmp_path / "api")),
        {"name": "Bad Name", "environments.staging.url": "javascript:alert(1)", "colour": "red"},
    )

    assert answers.name == "api"
    assert answers.environments[0].url == "https://staging.example.com"
    assert [n.split(":")[0] for n in answers.notes if not n.startswith("Deployment")] == [
        "colour",
        "environments.staging.url",
        "name",
    ]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("@acme/Api_Server", "api-server"),
        ("My  Service!", "my-service"),
        ("--x--", "x"),
        ("___", None),
        ("a" * 80, "a" * 63),
        ("ab-" * 30, ("ab-" * 21).rstrip("-")),
    ],
)
def test_to_dns_label(text: str, label: str | None) -> None:
    assert rules.to_dns_label(text) == label


def test_rules_are_read_from_the_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    environment = schema["properties"]["environments"]["items"]["properties"]
    namespace = environment["kubernetes"]["properties"]["namespace"]
    assert rules.rule("namespace").pattern == namespace["pattern"]
    assert rules.check_value("namespace", "Prod") == namespace["x-error"]
    assert rules.check_value("approval", "auto") == environment["approval"]["x-error"]
    assert rules.check_value("approval", "manual") is None
    for name in rules.RULE_NAMES:
        assert rules.rule(name).message.startswith("must be"), name


def test_rules_never_accept_a_trailing_newline() -> None:
    assert rules.check_value("namespace", "staging") is None
    assert rules.check_value("namespace", "staging\n") is not None
    assert rules.check_value("url", "https://example.com\n") is not None
    assert rules.check_value("command", "npm test\n") is None  # commands may span lines


def test_schema_url_names_the_major_version() -> None:
    major = re.match(r"[0-9]+", __version__)
    assert major is not None
    assert f"/v{major.group(0)}/schemas/cdgen.schema.json" in SCHEMA_URL


GOLDEN = """\
# yaml-language-server: $schema=https://raw.githubusercontent.com/cdgen-dev/cdgen/v0/schemas/cdgen.schema.json
# The continuous-deployment pipeline of this repository, read by cdgen.
# After editing, run `cdgen generate` and commit the result; `cdgen check` fails while
# the generated workflows are stale.
version: 1  # descriptor format
name: web  # service name; the default Deployment and container
branch: main  # pushes to this branch build and deploy

# The image: built once per commit, tested inside itself, pushed tagged with
# the commit SHA, and deployed everywhere by its digest (never rebuilt).
image:
  registry: ghcr.io  # GitHub's registry, with the workflow's own token; others take a login
  repository: acme/web
  context: .
  dockerfile: Dockerfile
  platforms: [linux/amd64]
  tag-latest: true  # also push :latest for humans; deploys use the digest
  attest: true  # provenance: public repositories or GitHub Enterprise Cloud
  test: npm test  # runs inside the built image before it is pushed

# Environments in promotion order: each deploys only after the one before it
# succeeded. Each is a GitHub environment holding its own kubeconfig secret.
environments:
  - name: staging
    url: https://staging.acme.dev
    approval: none  # deploys without waiting (continuous deployment)
    kubernetes:
      kubeconfig-secret: KUBE_CONFIG  # environment secret holding a kubeconfig
      namespace: staging
      deployment: web
      container: web
      rollout-timeout: 5m  # a slower rollout is undone
    # After each deploy: url + path must answer HTTP 200, or the deploy is rolled back.
    smoke:
      path: /health
      retries: 5
      interval: 10s
      expect-version: false  # true: the response must show the deployed commit
    # End-to-end tests after each deploy (BASE_URL and DEPLOYED_SHA are set).
    e2e:
      run: npm run test:e2e
      node-version: "22"  # sets up Node.js and runs npm ci first
      rollback-on-failure: true  # failed tests roll back to the previous image
  - name: production
    url: https://example.com  # placeholder: set the real URL
    approval: manual  # deployed only by a workflow_dispatch promotion of a tested digest
    kubernetes:
      kubeconfig-secret: KUBE_CONFIG_PROD  # environment secret holding a kubeconfig
      namespace: production
      deployment: web
      container: web
      rollout-timeout: 10m  # a slower rollout is undone
    # After each deploy: url + path must answer HTTP 200, or the deploy is rolled back.
    smoke:
      path: /health
      retries: 5
      interval: 10s
      expect-version: false  # true: the response must show the deployed commit
"""


def test_golden_descriptor() -> None:
    def kubernetes(namespace: str, secret: str, timeout: str) -> KubernetesAnswers:
        return KubernetesAnswers(namespace, "web", "web", secret, timeout)

    answers = InitAnswers(
        name="web",
        branch="main",
        github_repository="acme/web",
        image=ImageAnswers(repository="acme/web", test="npm test"),
        environments=(
            EnvironmentAnswers(
                name="staging",
                url="https://staging.acme.dev",
                approval="none",
                kubernetes=kubernetes("staging", "KUBE_CONFIG", "5m"),
                smoke=SmokeAnswers(),
                e2e=E2eAnswers(run="npm run test:e2e", node_version="22"),
            ),
            EnvironmentAnswers(
                name="production",
                url="https://example.com",
                approval="manual",
                kubernetes=kubernetes("production", "KUBE_CONFIG_PROD", "10m"),
                smoke=SmokeAnswers(),
            ),
        ),
    )

    assert render_descriptor(answers) == GOLDEN
    assert_schema_valid(GOLDEN)
