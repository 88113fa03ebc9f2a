"""The rules of a Dockerfile's test stage (`image.test-stage`), checked on every golden of an
image: the stage is built as a build target before anything is pushed, never pushed or
loaded itself, for the runner's platform only, from the build's own cache; where no stage is
named, no step targets one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.generated import GOLDENS

YAML_SAFE = YAML(typ="safe")
CD, CI = ".github/workflows/cd.yml", ".github/workflows/ci.yml"
BUILD_PUSH = "docker/build-push-action@"


def _golden(name: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    golden = YAML_SAFE.load((GOLDENS / f"{name}.yml").read_text(encoding="utf-8"))
    files = {rel: YAML_SAFE.load(text) for rel, text in golden["files"].items()}
    return YAML_SAFE.load(golden["descriptor"]), files


IMAGE_SCENARIOS = sorted(p.stem for p in GOLDENS.glob("*.yml") if "site" not in _golden(p.stem)[0])


def _named_stages(descriptor: dict[str, Any]) -> dict[str, str]:
    """The test stage each image names: by service, or under "" for the single image."""
    if "services" not in descriptor:
        stage = (descriptor.get("image") or {}).get("test-stage")
        return {"": stage} if stage else {}
    return {
        s["name"]: s["image"]["test-stage"]
        for s in descriptor["services"]
        if (s.get("image") or {}).get("test-stage")
    }


def _stage_steps(job: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return [(i, s) for i, s in enumerate(job["steps"]) if "target" in s.get("with", {})]


def _build_push_steps(job: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return [(i, s) for i, s in enumerate(job["steps"]) if s.get("uses", "").startswith(BUILD_PUSH)]


def test_the_goldens_name_a_test_stage_alone_and_beside_a_test_in_both_forms() -> None:
    """The rules below hold on at least a stage alone (single form) and a stage beside a
    test command on a multi-platform service (services form)."""
    named = {name: _named_stages(_golden(name)[0]) for name in IMAGE_SCENARIOS}
    assert named["test-stage"] == {"": "Test"}
    assert named["services-three"] == {"cart": "unit-tests"}
    cart = _golden("services-three")[0]["services"][0]["image"]
    assert cart["test"] and len(cart["platforms"]) > 1


@pytest.mark.parametrize("name", IMAGE_SCENARIOS)
def test_the_test_stage_is_built_before_any_push_and_pushes_nothing(name: str) -> None:
    """Rule: when an image names a test stage, its build job (cd.yml and a pull request's
    ci.yml) first builds that stage as the build's target with push false, no load and no
    platforms (the runner's own), reading the cache the push writes; every step that pushes
    comes after it, so a failing stage stops the job before anything reaches the registry."""
    descriptor, files = _golden(name)
    stages = _named_stages(descriptor)
    for rel in (CD, CI):
        job = files[rel]["jobs"]["build"]
        found = _stage_steps(job)
        if not stages:
            assert found == [], rel
            continue
        ((index, step),) = found
        assert step["uses"].startswith(BUILD_PUSH)
        settings = step["with"]
        assert settings["push"] is False
        assert settings["outputs"] == "type=cacheonly"
        assert "load" not in settings and "platforms" not in settings and "tags" not in settings
        assert "cache-to" not in settings  # the deploy branch's push alone writes the cache
        if "services" in descriptor:
            assert settings["target"] == "${{ matrix.test-stage }}"
            assert step["if"] == "matrix.test-stage != ''"
        else:
            assert settings["target"] == stages[""]
            assert "if" not in step
        builds = _build_push_steps(job)
        assert index == builds[0][0], "the stage is the first build"
        for later_index, later in builds:
            assert later["with"].get("cache-from") == settings["cache-from"]
            if later["with"].get("push") is True:
                assert later_index > index


@pytest.mark.parametrize("name", [n for n in IMAGE_SCENARIOS if "services" in n])
def test_each_service_s_stage_reaches_its_leg_of_the_build_matrix(name: str) -> None:
    """Rule: the changes step's table (each build leg's matrix entry) carries every service's
    test stage, empty for a service that names none, so the step above runs for that
    service's leg only and targets its own stage."""
    descriptor, files = _golden(name)
    stages = _named_stages(descriptor)
    for rel in (CD, CI):
        changes = next(
            s for s in files[rel]["jobs"]["changes"]["steps"] if s.get("id") == "changes"
        )
        table = json.loads(changes["with"]["services"])
        assert {row["service"]: row["test-stage"] for row in table} == {
            s["name"]: stages.get(s["name"], "") for s in descriptor["services"]
        }
