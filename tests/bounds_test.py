"""The schema and the deploy engine agree on every bound.

The bounds are not written here: the walk (support/schema_walk.py) reads them from the schema
(its integer minima and maxima, and the extremes its patterns accept, found by trying
values); each extreme is rendered into cd.yml and the deploy step's inputs are handed to the
engine's own input parser.
Every value the schema accepts, the engine must accept: otherwise a descriptor validates and
then fails at every deploy. Just past the upper bounds the issue names (durations, integers,
ports, host labels and lengths), both must refuse.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.schema_walk import (
    BASE,
    FAMILIES,
    SERVICES_BASE,
    Probe,
    all_probes,
    place,
    probes,
    schema_nodes,
)

from cdgen.deploy.fleet import InvalidFleet, plan_fleet
from cdgen.deploy.options import InvalidInputsError, parse_options
from cdgen.descriptor import parse_descriptor
from cdgen.errors import DescriptorError
from cdgen.model import build_pipeline
from cdgen.render import render_pipeline
from cdgen.resources import load_schema
from cdgen.rules import matches
from cdgen.stamp import build_stamp
from cdgen.validate import validate_document

# The deploy step's inputs that are GitHub expressions, as the run would fill them in.
DIGEST = "sha256:" + "0" * 64
AT_RUN_TIME = {
    "kubeconfig": "",
    "expect-version": "0" * 40,
    "commit-time": "2026-01-01T00:00:00Z",
    "commit": "0" * 40,
    "github-token": "ghs_token",
}


# The schema's verdict and the engine's ---------------------------------------------------


def schema_refusals(data: dict[str, Any]) -> list[str]:
    try:
        validate_document(parse_descriptor(json.dumps(data).encode(), "cdgen.yml"))
    except DescriptorError as error:
        return [str(v) for v in error.violations]
    return []


def engine_inputs(data: dict[str, Any]) -> list[dict[str, str]]:
    """The inputs of every deploy step in the cd.yml rendered from `data` (validated or not),
    with GitHub's expressions filled in as a run would; in the services form, the inputs of
    each service's engine."""
    pipeline = build_pipeline(data, build_stamp())
    repository = (pipeline.image.repository or "acme/api").lower()
    image = f"{pipeline.image.registry}/{repository}@{DIGEST}"
    cd = YAML(typ="safe").load(render_pipeline(pipeline, "cdgen.yml")[".github/workflows/cd.yml"])
    found = []
    for job in cd["jobs"].values():
        for step in job["steps"]:
            if step.get("id") != "deploy":
                continue
            inputs = {key: str(value) for key, value in step["with"].items()}
            if pipeline.services:
                found += fleet_inputs(inputs, job["env"], image)
                continue
            for key, value in inputs.items():
                if "${{" in value:
                    inputs[key] = image if key in {"image", "only-if-live"} else AT_RUN_TIME[key]
            found.append(inputs)
    assert found, "cd.yml has no deploy step"
    return found


def fleet_inputs(step: dict[str, str], env: dict[str, str], image: str) -> list[dict[str, str]]:
    """What each service's engine gets from a deploy step with `services` (fleet.py)."""
    filled = dict(step)
    for key, value in step.items():
        if key == "services":
            filled[key] = env["CDGEN_TARGETS"]
        elif key == "images":
            names = [row["service"] for row in json.loads(env["CDGEN_TARGETS"])]
            filled[key] = json.dumps(dict.fromkeys(names, image))
        elif "${{" in value:
            filled[key] = AT_RUN_TIME[key]
    shared = {k: v for k, v in filled.items() if k not in {"services", "images", "results"}}
    return [{**shared, **member.inputs} for member in plan_fleet(filled).members]


@cache
def base_inputs() -> list[dict[str, str]]:
    return engine_inputs(BASE)


def engine_refusals(data: dict[str, Any]) -> list[str]:
    problems = []
    try:
        every = engine_inputs(data)
    except InvalidFleet as error:  # the services step refuses before any engine runs
        return error.problems
    for inputs in every:
        try:
            parse_options(inputs)
        except InvalidInputsError as error:
            problems += error.problems
    return problems


def test_the_walk_covers_every_bound_the_issue_names() -> None:
    bounds = {probe.bound for probe in all_probes()}
    for expected in (
        "environments/0/kubernetes/rollout-timeout greatest in h",
        "environments/0/smoke/interval greatest in h",
        "environments/0/smoke/retries maximum",
        "url: greatest port",
        "url: longest host label",
        "url: longest host",
        "url: greatest IPv4 octet",
        "environments/0/kubernetes/namespace longest",
    ):
        assert expected in bounds


def disagreement(probe: Probe) -> str | None:
    """What is wrong at this probe, or None when the schema and the engine agree."""
    data = probe.descriptor()
    schema_says, engine_says = schema_refusals(data), engine_refusals(data)
    shown = f"{probe.bound} ({probe.value!r})"
    if probe.past and not schema_says:
        return f"{shown}: the walk expected the schema to refuse it"
    # Tight only where the value reaches the engine (a job timeout, say, never does).
    if probe.past and probe.tight and not engine_says and engine_inputs(data) != base_inputs():
        return f"{shown}: past the schema's bound, yet the engine takes it"
    if not probe.past and schema_says:
        return f"{shown}: the walk expected the schema to accept it: {schema_says}"
    if not probe.past and engine_says:
        return f"{shown}: the schema accepts it, the engine refuses it: {engine_says}"
    return None


@pytest.mark.parametrize("family", FAMILIES)
def test_the_schema_and_the_engine_agree(family: str) -> None:
    found = [problem for probe in probes()[family] if (problem := disagreement(probe))]
    assert found == []
    assert probes()[family], "the walk found nothing to probe"


@pytest.mark.parametrize("services", [False, True], ids=["one service", "services"])
def test_every_greatest_value_at_once_reaches_the_engine(services: bool) -> None:
    """Separately accepted maxima could still add up: the url and the smoke path together."""
    data: dict[str, Any] = json.loads(json.dumps(SERVICES_BASE if services else BASE))
    if services:  # the service's smoke URL: the environment's longest URL and path
        del data["services"][0]["smoke"], data["services"][0]["environments"][0]["url"]
    for probe in all_probes():
        greatest = "greatest" in probe.bound or "longest" in probe.bound
        # Of the URL's extremes, the longest URL: the smoke URL adds the path to it.
        if (
            greatest
            and not probe.past
            and (probe.where[-1] != "url" or probe.bound == "url: longest")
            and (
                probe.in_services
                or not services
                or probe.where[-1] not in {"deployment", "container"}
            )
            and (services or not probe.in_services)
        ):
            place(data, probe.where, probe.value)
    if services:  # the override names an environment that exists
        data["services"][0]["environments"][0]["name"] = data["environments"][0]["name"]
    assert schema_refusals(data) == []
    assert engine_refusals(data) == []
    smoke_url = engine_inputs(data)[0]["smoke-url"]
    assert len(smoke_url) == 2048  # the engine's own limit, reached exactly


CORPUS = [
    *["", "a", "api", "main\n", "-a", "a-", ".a", "a/..", "/etc", "HEAD", "main.lock", "a..b"],
    *["x${{ github.token }}", "5m", "0s", "6h", "7h", "21600s", "3600s", "61m", "1h30m"],
    *["https://x.example.com:65535/a", "https://x.example.com:0", "http://1.2.3.4", "http://1.2.3"],
    *["a/b", "cdgen-dev/cdgen", "a/.git", "a/x.wiki", "linux/amd64", "v1.2.3", "lts/*", "é"],
    *[
        "/health",
        "/a%2Fb",
        "/a%zz",
        "/a%2",
        "https://x.example.com/a%2F",
        "https://x.example.com/%",
    ],
]


def test_every_pattern_means_the_same_to_ecma_262() -> None:
    """Editors check cdgen.yml with ECMA-262 regexes (regress here, as check-jsonschema
    does); cdgen with Python's re and an ECMA `$`. Both must judge every probe alike."""
    import regress

    nodes = dict(schema_nodes(load_schema()))
    values: dict[tuple[str | int, ...], set[str]] = {w: set(CORPUS) for w in nodes}
    for probe in all_probes():
        if isinstance(probe.value, str):
            values[probe.where].add(probe.value)
    for where, node in nodes.items():
        if "pattern" not in node:
            continue
        ecma = regress.Regex(node["pattern"], flags="u")
        for value in values[where]:
            python_says = matches(node["pattern"], value)
            assert python_says == (ecma.find(value) is not None), (where, value)
