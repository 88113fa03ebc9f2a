"""The services form's rules that no one key's schema states, each reported at its line and
column: unique names, one image and one Deployment per service, what moves from the shared
`image` and the environments to each service, overrides of environments that exist, and no
`site` beside `services`."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdgen.cli import main

ENVIRONMENTS = """environments:
  - name: staging
    url: https://staging.example.com
    kubernetes: { namespace: staging }
"""


def problems(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> list[str]:
    (tmp_path / "cdgen.yml").write_text(text, encoding="utf-8")
    code = main(["validate", "--config", str(tmp_path / "cdgen.yml")])
    err = capsys.readouterr().err
    found = [line.split("cdgen.yml:", 1)[1] for line in err.splitlines() if "cdgen.yml:" in line]
    found = [line for line in found if "matches nothing" not in line]
    assert (code == 0) is (found == [])
    return found


def test_duplicate_names_are_refused_at_the_second(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "version: 1\nname: shop\nservices:\n"
        "  - name: cart\n    image: { context: src/cart }\n"
        "  - name: cart\n    kubernetes: { deployment: cart-two }\n" + ENVIRONMENTS
    )
    assert problems(tmp_path, capsys, text) == [
        "6:11: services[1].name: duplicate service 'cart' (first defined on line 4)"
    ]


def test_two_services_pushing_one_image_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "version: 1\nname: shop\nimage: { registry: ghcr.io, repository: acme/shop }\n"
        "services:\n"
        "  - name: web\n    image: { context: src/web, repository: acme/shop/api }\n"
        "  - name: api\n    image: { context: src/api }\n" + ENVIRONMENTS
    )
    assert problems(tmp_path, capsys, text) == [
        "7:11: services[1].name: pushes the same image as services[0] (acme/shop/api): each "
        "service needs an image of its own"
    ]


def test_two_services_updating_one_deployment_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "version: 1\nname: shop\nservices:\n"
        "  - name: web\n"
        "  - name: api\n    kubernetes: { deployment: web }\n" + ENVIRONMENTS
    )
    assert problems(tmp_path, capsys, text) == [
        "6:31: services[1].kubernetes.deployment: updates Deployment 'web' in environment "
        "'staging', as services[0] does: a rollback of one would undo the other"
    ]


def test_what_each_service_owns_is_refused_where_it_is_shared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "version: 1\nname: shop\nimage: { test: make test }\nservices:\n  - name: web\n"
        "environments:\n  - name: staging\n    url: https://staging.example.com\n"
        "    kubernetes: { namespace: staging, deployment: web }\n"
    )
    assert problems(tmp_path, capsys, text) == [
        "3:16: image.test: with `services`, each service sets its own: move it to "
        "services[].image.test",
        "9:51: environments[0].kubernetes.deployment: with `services`, each service names its "
        "own deployment: set services[].kubernetes.deployment (or its environments[] override)",
    ]


def test_an_override_of_an_unknown_environment_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "version: 1\nname: shop\nservices:\n  - name: web\n    environments:\n"
        "      - name: prod\n        url: https://web.example.com\n" + ENVIRONMENTS
    )
    assert problems(tmp_path, capsys, text) == [
        "6:15: services[0].environments[0].name: no environment 'prod' in `environments` "
        "(known: staging)"
    ]


def test_services_beside_a_site_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "version: 1\nname: shop\nsite: { provider: vercel, project: prj_abc, org-id: team_abc }\n"
        "services:\n  - name: web\n"
        "environments:\n  - name: staging\n    url: https://staging.example.com\n"
    )
    assert problems(tmp_path, capsys, text) == [
        "5:3: services: services deploy images to Kubernetes: a descriptor with a static "
        "`site` has none; remove one"
    ]


def test_a_valid_services_descriptor_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "version: 1\nname: shop\nservices:\n"
        "  - name: web\n    image: { context: src/web, test: npm test }\n"
        "  - name: api\n    paths: [src/api, 'libs/**']\n" + ENVIRONMENTS
    )
    assert problems(tmp_path, capsys, text) == []


@pytest.mark.parametrize(
    ("services", "environment", "where"),
    [
        ('"null"', "staging", "4:11: services[0].name"),
        ("cart", '"null"', "7:11: environments[0].name"),
    ],
)
def test_null_is_refused_as_a_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], services: str, environment: str, where: str
) -> None:
    """GitHub reads a plain `null` in a workflow as YAML's null, an empty string: an output
    key, a choice option or an environment named `null` would lose its name."""
    text = (
        f"version: 1\nname: shop\nservices:\n  - name: {services}\n"
        "    image: { context: src/cart }\n"
        f"environments:\n  - name: {environment}\n    url: https://staging.example.com\n"
        "    kubernetes: { namespace: staging }\n"
    )
    (found,) = problems(tmp_path, capsys, text)
    assert found.startswith(f"{where}: must be ")
    assert "not `null`" in found


@pytest.mark.parametrize("namespace", ["null", "true", "1e5", "0x1f", "0123"])
def test_a_namespace_github_would_read_as_a_value_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], namespace: str
) -> None:
    """Written bare in the workflow, `1e5` would reach the action as namespace `100000`."""
    text = (
        "version: 1\nname: shop\nservices:\n  - name: cart\n    image: { context: src/cart }\n"
        "environments:\n  - name: staging\n    url: https://staging.example.com\n"
        f'    kubernetes: {{ namespace: "{namespace}" }}\n'
    )
    (found,) = problems(tmp_path, capsys, text)
    assert found.startswith("9:30: environments[0].kubernetes.namespace: must be a DNS-1123")
    assert "not `null`, `true`, `false` or a number" in found
