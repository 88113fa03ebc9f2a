"""Walking the descriptor schema's bounds: for every integer, duration, name and URL bound,
the extreme values the schema accepts and the ones just past them, found by trying values
against the schema itself (nothing here repeats a bound)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from cdgen.resources import load_schema
from cdgen.rules import matches

# Every optional object present, so that a probe anywhere lands in a valid descriptor.
ENVIRONMENT: dict[str, Any] = {
    "name": "staging",
    "url": "https://staging.example.com",
    "kubernetes": {"namespace": "staging"},
    "smoke": {"path": "/health"},
    "e2e": {"run": "npm run test:e2e"},
    "canary": {
        "analysis": {
            "prometheus": "https://prometheus.example.com",
            "metrics": [{"name": "errors", "query": "sum(up)", "max": 1}],
        }
    },
}
BASE: dict[str, Any] = {
    "version": 1,
    "name": "api",
    "image": {"test": "npm test"},
    "environments": [ENVIRONMENT],
    "action": {},
}
# The services form: a probe under `services` lands here, its other keys at their defaults.
SERVICES_BASE: dict[str, Any] = {
    **{key: value for key, value in BASE.items() if key != "image"},
    "services": [
        {
            "name": "api",
            "image": {"context": "api", "test": "npm test"},
            "kubernetes": {"deployment": "api"},
            "smoke": {"path": "/health"},
            "environments": [{"name": "staging", "url": "https://api.example.com"}],
        }
    ],
}
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

    @property
    def in_services(self) -> bool:
        return self.where[:1] == ("services",)

    def descriptor(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(json.dumps(SERVICES_BASE if self.in_services else BASE))
        place(data, self.where, self.value)
        if self.where == ("services", 0, "environments", 0, "name"):
            # A service's override names an environment: probe the one it names.
            place(data, ("environments", 0, "name"), self.value)
        return data


def place(data: Any, where: tuple[str | int, ...], value: Any) -> None:
    for step in where[:-1]:
        data = data[step] if isinstance(step, int) else data.setdefault(step, {})
    data[where[-1]] = value


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
