"""The schema and the deploy engine agree on every bound.

The bounds are not written here: the walk reads them from the schema (its integer minima and
maxima, and the extremes its patterns accept, found by trying values), then renders each
extreme into cd.yml and hands the deploy step's inputs to the engine's own input parser.
Every value the schema accepts, the engine must accept: otherwise a descriptor validates and
then fails at every deploy. Just past the upper bounds the issue names (durations, integers,
ports, host labels and lengths), both must refuse.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from ruamel.yaml import YAML

from cdgen.deploy.options import InvalidInputsError, parse_options
from cdgen.descriptor import parse_descriptor
from cdgen.errors import DescriptorError
from cdgen.model import build_pipeline
from cdgen.render import render_pipeline
from cdgen.resources import load_schema
from cdgen.rules import matches
from cdgen.validate import validate_document

# Every optional object present, so that a probe anywhere lands in a valid descriptor.
ENVIRONMENT: dict[str, Any] = {
    "name": "staging",
    "url": "https://staging.example.com",
    "kubernetes": {"namespace": "staging"},
    "smoke": {"path": "/health"},
    "e2e": {"run": "npm run test:e2e"},
}
BASE: dict[str, Any] = {
    "version": 1,
    "name": "api",
    "image": {"test": "npm test"},
    "environments": [ENVIRONMENT],
    "action": {},
}
# The deploy step's inputs that are GitHub expressions, as the run would fill them in.
DIGEST = "sha256:" + "0" * 64
AT_RUN_TIME = {"kubeconfig": "", "expect-version": "0" * 40, "commit-time": "2026-01-01T00:00:00Z"}
SEARCH = 100_000  # numbers tried per duration unit, port and octet
UNITS = "smh"


@dataclass(frozen=True)
class Probe:
    """One extreme value at one place of the descriptor."""

    bound: str
    where: tuple[str | int, ...]  # path from the descriptor's root
    value: Any
    past: bool  # just past the schema's bound (the schema must refuse it)
    tight: bool = False  # past an upper bound the engine shares: the engine refuses too

    def descriptor(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(json.dumps(BASE))
        place(data, self.where, self.value)
        return data


def place(data: Any, where: tuple[str | int, ...], value: Any) -> None:
    for step in where[:-1]:
        data = data[step] if isinstance(step, int) else data.setdefault(step, {})
    data[where[-1]] = value


# Walking the schema ---------------------------------------------------------------------


def schema_nodes(
    node: dict[str, Any], where: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every property node, with its path ("environments", 0, ... for list items)."""
    yield where, node
    for name, child in node.get("properties", {}).items():
        yield from schema_nodes(child, (*where, name))
    items = node.get("items")
    if isinstance(items, dict) and "properties" in items:
        yield from schema_nodes(items, (*where, 0))


def accepted(node: dict[str, Any], value: str) -> bool:
    return len(value) <= node.get("maxLength", len(value)) and matches(node["pattern"], value)


def span(values: list[int], stop: int = SEARCH) -> tuple[int, int]:
    """The least and greatest of `values` (tried up to `stop`), which must be every number
    between them: a gap would hide accepted values no probe tries."""
    assert values, "the walk found no accepted value"
    low, high = min(values), max(values)
    assert values == list(range(low, high + 1)), "accepted values with a gap"
    assert high < stop - 1, "the bound lies beyond the search"
    return low, high


def integer_probes(where: tuple[str | int, ...], node: dict[str, Any]) -> Iterator[Probe]:
    label = "/".join(map(str, where))
    if "minimum" in node:
        yield Probe(f"{label} minimum", where, node["minimum"], past=False)
        yield Probe(f"{label} below the minimum", where, node["minimum"] - 1, past=True)
    if "maximum" in node:
        yield Probe(f"{label} maximum", where, node["maximum"], past=False)
        yield Probe(f"{label} above the maximum", where, node["maximum"] + 1, True, tight=True)


def is_duration(node: dict[str, Any]) -> bool:
    """A pattern taking `5m` or `1s` but not words (a command's pattern takes anything)."""
    if "pattern" not in node or accepted(node, "x") or accepted(node, "5 minutes"):
        return False
    return any(accepted(node, f"{n}{unit}") for n in (1, 5) for unit in UNITS)


def duration_probes(where: tuple[str | int, ...], node: dict[str, Any]) -> Iterator[Probe]:
    label = "/".join(map(str, where))
    for unit in UNITS:
        numbers = [n for n in range(SEARCH) if accepted(node, f"{n}{unit}")]
        if not numbers:
            continue
        low, high = span(numbers)
        assert not any(accepted(node, f"{10**k}{unit}") for k in range(5, 12))
        yield Probe(f"{label} least in {unit}", where, f"{low}{unit}", past=False)
        yield Probe(f"{label} greatest in {unit}", where, f"{high}{unit}", past=False)
        if low > 0:
            yield Probe(f"{label} below in {unit}", where, f"{low - 1}{unit}", past=True)
        yield Probe(f"{label} above in {unit}", where, f"{high + 1}{unit}", past=True, tight=True)


def length_probes(where: tuple[str | int, ...], node: dict[str, Any]) -> Iterator[Probe]:
    """The longest name the schema takes, and one letter more."""
    label = "/".join(map(str, where))
    longest = span([n for n in range(1, 1000) if accepted(node, "a" * n)], 1000)[1]
    yield Probe(f"{label} longest", where, "a" * longest, past=False)
    yield Probe(f"{label} one longer", where, "a" * (longest + 1), past=True)


def url_probes(url_node: dict[str, Any], path_node: dict[str, Any]) -> Iterator[Probe]:
    url, path = ("environments", 0, "url"), ("environments", 0, "smoke", "path")
    found: list[Probe] = []
    longest = url_node["maxLength"] + 2  # lengths tried: all a URL may have, and more

    def greatest(make: Callable[[int], str], start: int = 0, stop: int = SEARCH) -> int:
        return span([n for n in range(start, stop) if accepted(url_node, make(n))], stop)[1]

    def both(bound: str, make: Callable[[int], str], n: int, *, tight: bool = True) -> None:
        found.append(Probe(f"url: {bound}", url, make(n), past=False))
        found.append(Probe(f"url: {bound}, one past", url, make(n + 1), past=True, tight=tight))

    label = greatest(lambda n: f"https://{'a' * n}.example.com", 1, longest)
    both("longest host label", lambda n: f"https://{'a' * n}.example.com", label)
    found.append(Probe("url: empty label", url, "https://a..example.com", past=True, tight=True))
    host = greatest(lambda n: "https://" + host_of_length(n, label), 1, longest)
    both("longest host", lambda n: "https://" + host_of_length(n, label), host)
    ports = [n for n in range(SEARCH) if accepted(url_node, f"https://x.example.com:{n}")]
    low, high = span(ports)
    both("greatest port", lambda n: f"https://x.example.com:{n}", high)
    found.append(Probe("url: port below", url, f"https://x.example.com:{low - 1}", True, True))
    octet = greatest(lambda n: f"https://{n}.0.0.1")
    both("greatest IPv4 octet", lambda n: f"https://{n}.0.0.1", octet)
    longest_url = greatest(lambda n: "https://x.example.com/" + "a" * n, 0, longest) + 22
    both("longest", lambda n: "https://x.example.com/" + "a" * (n - 22), longest_url, tight=False)
    lengths = range(1, path_node["maxLength"] + 2)
    longest_path = span([n for n in lengths if accepted(path_node, "/" + "a" * (n - 1))])[1]
    found.append(Probe("smoke path: longest", path, "/" + "a" * (longest_path - 1), False))
    yield from found


def host_of_length(length: int, label: int) -> str:
    """A host name of `length` characters made of labels as long as the schema allows."""
    labels, left = [], length
    while left > label:
        take = min(label, left - 2)  # leave room for a dot and a last label
        labels.append("a" * take)
        left -= take + 1
    return ".".join([*labels, "b" * left])


FAMILIES = ("integer", "duration", "name length", "url")


@cache
def probes() -> dict[str, tuple[Probe, ...]]:
    """The probes of each family, walked from the schema (once, when a test first asks)."""
    schema = load_schema()
    found: dict[str, list[Probe]] = {family: [] for family in FAMILIES}
    nodes = dict(schema_nodes(schema))
    for where, node in nodes.items():
        if node.get("type") == "integer":
            found["integer"] += integer_probes(where, node)
        elif node.get("type") == "string" and is_duration(node):
            found["duration"] += duration_probes(where, node)
        elif where[-1:] in {("name",), ("namespace",), ("deployment",), ("container",)}:
            found["name length"] += length_probes(where, node)
    env = ("environments", 0)
    found["url"] += url_probes(nodes[(*env, "url")], nodes[(*env, "smoke", "path")])
    return {family: tuple(found[family]) for family in FAMILIES}


def all_probes() -> Iterator[Probe]:
    for family in FAMILIES:
        yield from probes()[family]


# The schema's verdict and the engine's ---------------------------------------------------


def schema_refusals(data: dict[str, Any]) -> list[str]:
    try:
        validate_document(parse_descriptor(json.dumps(data).encode(), "cdgen.yml"))
    except DescriptorError as error:
        return [str(v) for v in error.violations]
    return []


def engine_inputs(data: dict[str, Any]) -> list[dict[str, str]]:
    """The inputs of every deploy step in the cd.yml rendered from `data` (validated or not),
    with GitHub's expressions filled in as a run would."""
    pipeline = build_pipeline(data)
    repository = (pipeline.image.repository or "acme/api").lower()
    image = f"{pipeline.image.registry}/{repository}@{DIGEST}"
    cd = YAML(typ="safe").load(render_pipeline(pipeline, "cdgen.yml")[".github/workflows/cd.yml"])
    found = []
    for job in cd["jobs"].values():
        for step in job["steps"]:
            if step.get("id") != "deploy":
                continue
            inputs = {key: str(value) for key, value in step["with"].items()}
            for key, value in inputs.items():
                if "${{" in value:
                    inputs[key] = image if key in {"image", "only-if-live"} else AT_RUN_TIME[key]
            found.append(inputs)
    assert found, "cd.yml has no deploy step"
    return found


@cache
def base_inputs() -> list[dict[str, str]]:
    return engine_inputs(BASE)


def engine_refusals(data: dict[str, Any]) -> list[str]:
    problems = []
    for inputs in engine_inputs(data):
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


def test_every_greatest_value_at_once_reaches_the_engine() -> None:
    """Separately accepted maxima could still add up: the url and the smoke path together."""
    data: dict[str, Any] = json.loads(json.dumps(BASE))
    for probe in all_probes():
        greatest = "greatest" in probe.bound or "longest" in probe.bound
        # Of the URL's extremes, the longest URL: the smoke URL adds the path to it.
        if (
            greatest
            and not probe.past
            and (probe.where[-1] != "url" or probe.bound == "url: longest")
        ):
            place(data, probe.where, probe.value)
    assert schema_refusals(data) == []
    assert engine_refusals(data) == []
    smoke_url = engine_inputs(data)[0]["smoke-url"]
    assert len(smoke_url) == 2048  # the engine's own limit, reached exactly


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://[::1", "is not an http(s) URL"),
        ("http://a..example.com/", "has no valid host"),
        ("http://.example.com/", "has no valid host"),
        (f"http://{'a' * 64}.example.com/", "has no valid host"),
        ("http://" + ".".join(["a" * 63] * 4) + "/", "has no valid host"),
        ("http://1.2.3/", "has no valid host"),
        ("http://256.1.1.1/", "has no valid host"),
        ("http://-a.example.com/", "has no valid host"),
        ("http://exa$mple.com/", "has no valid host"),
        ("http://bücher.example/", "has no valid host"),
        ("http://example.com:0/", "has an invalid port (1 to 65535)"),
        ("http://example.com:65536/", "has an invalid port (1 to 65535)"),
        ("http://example.com:http/", "has an invalid port (1 to 65535)"),
    ],
)
def test_the_engine_refuses_urls_no_smoke_test_could_fetch(url: str, problem: str) -> None:
    with pytest.raises(InvalidInputsError) as caught:
        parse_options({"image": "x:1", "namespace": "s", "deployment": "d", "smoke-url": url})
    [found] = caught.value.problems
    assert found.startswith(f"smoke-url: {url!r} {problem}")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/health",
        "http://[::1]:8080/health",
        "http://localhost/",
        "http://my_service:80/",
        "https://example.com./health",
        "https://" + ".".join(["a" * 63] * 3 + ["b" * 61]) + ":65535/",
    ],
)
def test_the_engine_still_takes_what_a_hand_written_workflow_may_pass(url: str) -> None:
    options = parse_options({"image": "x:1", "namespace": "s", "deployment": "d", "smoke-url": url})
    assert options.smoke_url == url


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
