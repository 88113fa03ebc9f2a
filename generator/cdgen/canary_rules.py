"""The rules of an environment's `canary` that one key's schema cannot say: a route exactly
with gateway traffic, rising steps, one Prometheus, one bound per metric, unique metric
names, and a token only over https. The deploy engine refuses the same at every deploy."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from cdgen.descriptor import At, Document, PathItem
from cdgen.errors import Violation

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def find_canary_violations(doc: Document, at: At) -> Iterator[Violation]:
    environments = doc.data.get("environments") if isinstance(doc.data, dict) else None
    for index, env in enumerate(environments if isinstance(environments, list) else []):
        canary = env.get("canary") if isinstance(env, dict) else None
        if isinstance(canary, dict):
            where: list[PathItem] = ["environments", index, "canary"]
            yield from _traffic(canary, where, at)
            analysis = canary.get("analysis")
            if isinstance(analysis, dict):
                yield from _analysis(analysis, [*where, "analysis"], at)


def _traffic(canary: dict[str, Any], where: list[PathItem], at: At) -> Iterator[Violation]:
    gateway = canary.get("traffic") == "gateway"
    if gateway and "route" not in canary:
        yield at(where, "traffic: gateway needs the HTTPRoute to reweight: add `route`")
    if not gateway and "route" in canary:
        yield at([*where, "route"], "only used with `traffic: gateway`")
    steps = canary.get("steps")
    numbers = isinstance(steps, list) and all(isinstance(step, int) for step in steps)
    if numbers and steps != sorted(set(steps or ())):
        yield at([*where, "steps"], "must rise: each step a larger percentage than the one before")


def _analysis(analysis: dict[str, Any], where: list[PathItem], at: At) -> Iterator[Violation]:
    given = [key for key in ("prometheus", "prometheus-secret") if key in analysis]
    if len(given) != 1:
        yield at(where, "give the Prometheus as exactly one of `prometheus` or `prometheus-secret`")
    url = analysis.get("prometheus")
    if "token-secret" in analysis and isinstance(url, str) and _clear_text(url):
        yield at(
            [*where, "prometheus"],
            "must use https with `token-secret` (the token would travel in clear)",
        )
    metrics = analysis.get("metrics")
    names: dict[str, int] = {}
    for number, metric in enumerate(metrics if isinstance(metrics, list) else []):
        if not isinstance(metric, dict):
            continue
        place: list[PathItem] = [*where, "metrics", number]
        bounds = [key for key in ("max", "min") if key in metric]
        if len(bounds) != 1:
            yield at(place, "needs exactly one bound: `max` or `min`")
        for bound in bounds:
            value = metric[bound]
            if isinstance(value, float) and not math.isfinite(value):
                yield at([*place, bound], "must be a finite number")
        name = metric.get("name")
        if isinstance(name, str) and name in names:
            yield at([*place, "name"], f"repeats the name of metrics[{names[name]}]")
        elif isinstance(name, str):
            names[name] = number


def _clear_text(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == "http" and (parts.hostname or "") not in _LOOPBACK
