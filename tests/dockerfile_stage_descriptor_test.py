"""`image.test-stage` in the descriptor: a Dockerfile stage name, refused at its position
otherwise; in the services form each service names its own; the model carries it as
written, and only to the build of the image that names it."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.generated import render_descriptor

from cdgen.descriptor import parse_descriptor
from cdgen.errors import DescriptorError
from cdgen.model import build_pipeline
from cdgen.stamp import Stamp
from cdgen.validate import validate_document

SINGLE = """\
version: 1
name: ledger
image:
  test-stage: {stage}
environments:
  - name: staging
    url: https://staging.example.com
    kubernetes: {{ namespace: money }}
"""
SERVICES = """\
version: 1
name: shop
image:
  registry: ghcr.io
{shared}services:
  - name: cart
    image: {{ context: src/cart, test-stage: {stage} }}
  - name: web
    image: {{ context: src/web }}
environments:
  - name: staging
    url: https://staging.example.com
    kubernetes: {{ namespace: shop }}
"""
STAGE = (
    "must be a Dockerfile stage name (the `AS` name of a FROM instruction): a letter, then "
    "letters, digits, '.', '_' and '-'"
)


def problems(text: str) -> list[str]:
    try:
        validate_document(parse_descriptor(text.encode(), "cdgen.yml"))
    except DescriptorError as error:
        return [str(v) for v in error.violations]
    return []


@pytest.mark.parametrize("stage", ["test", "Test", "unit-tests", "go1.23_test", "a" * 128])
def test_a_stage_name_as_docker_takes_it_is_valid(stage: str) -> None:
    assert problems(SINGLE.format(stage=stage)) == []
    assert problems(SERVICES.format(stage=stage, shared="")) == []


@pytest.mark.parametrize(
    "stage",
    ["1test", "-test", "te st", '"test\\nx: 1"', '"${{ github.head_ref }}"', '"$(id)"', '""'],
)
def test_anything_else_is_refused_at_its_position(stage: str) -> None:
    (single,) = problems(SINGLE.format(stage=stage))
    assert single.startswith(f"cdgen.yml:4:15: image.test-stage: {STAGE} (got ")
    (service,) = problems(SERVICES.format(stage=stage, shared=""))
    assert service.startswith(f"cdgen.yml:7:45: services[0].image.test-stage: {STAGE} (got ")


def test_a_name_too_long_is_refused() -> None:
    (problem,) = problems(SINGLE.format(stage="a" * 129))
    assert problem.startswith("cdgen.yml:4:15: image.test-stage: ")


def test_with_services_the_shared_image_names_no_stage() -> None:
    text = SERVICES.format(stage="test", shared="  test-stage: test\n")
    assert problems(text) == [
        "cdgen.yml:5:15: image.test-stage: with `services`, each service sets its own: move it "
        "to services[].image.test-stage"
    ]


def test_the_model_keeps_the_stage_as_written_and_only_where_it_is_named() -> None:
    stamp = Stamp(commit=None, release=None)
    single = YAML(typ="safe").load(SINGLE.format(stage="Test"))
    assert build_pipeline(single, stamp).image.test_stage == "Test"
    services = build_pipeline(
        YAML(typ="safe").load(SERVICES.format(stage="unit-tests", shared="")), stamp
    ).services
    assert [s.image.test_stage for s in services] == ["unit-tests", None]


def test_a_stage_beside_a_test_command_runs_both_stage_first(tmp_path: Path) -> None:
    """Combined with `test`: the stage is built, then the image is built and tested, then
    pushed. On several platforms the stage is still built for the runner's own only."""
    text = SINGLE.format(stage="test").replace(
        "  test-stage: test\n",
        "  test-stage: test\n  test: /app --self-test\n  platforms: [linux/amd64, linux/arm64]\n",
    )
    cd = YAML(typ="safe").load(render_descriptor(tmp_path, text)[".github/workflows/cd.yml"])
    names = [step["name"] for step in cd["jobs"]["build"]["steps"]]
    stage = names.index("Run the Dockerfile's test stage")
    assert stage < names.index("Build the image for testing") < names.index("Test the built image")
    assert names.index("Test the built image") < names.index("Push the tested image")
    settings = cd["jobs"]["build"]["steps"][stage]["with"]
    assert (settings["target"], settings["push"]) == ("test", False)
    assert "platforms" not in settings
    push = next(s for s in cd["jobs"]["build"]["steps"] if s["name"] == "Push the tested image")
    assert push["with"]["platforms"] == "linux/amd64,linux/arm64"
