"""The canary inputs are checked with every other input, before kubectl runs at all."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.sandbox import image

from cdgen.deploy.options import InvalidInputsError, parse_options

from ..conftest import Deploy, Sandbox

METRIC = {"name": "errors", "query": "sum(up)", "max": 0.01}
ANALYSIS = {"prometheus": "https://prometheus.example.com", "metrics": [METRIC]}
VALID = {
    "image": image("v2"),
    "namespace": "staging",
    "deployment": "api",
    "strategy": "canary",
    "analysis": json.dumps(ANALYSIS),
}


def problems(**changes: str) -> list[str]:
    try:
        parse_options({**VALID, **changes})
    except InvalidInputsError as error:
        return error.problems
    return []


def analysis(**changes: Any) -> str:
    return json.dumps({**ANALYSIS, **changes})


def test_a_valid_canary() -> None:
    options = parse_options({**VALID, "canary-steps": "5,25,50", "canary-pause": "2m"})
    canary = options.canary
    assert canary is not None
    assert canary.steps == (5, 25, 50) and canary.pause == 120 and canary.traffic == "replicas"
    assert canary.analysis.interval == 60 and canary.analysis.on_no_data == "fail"
    (metric,) = canary.analysis.metrics
    assert (metric.name, metric.bound, metric.limit) == ("errors", "max", 0.01)
    assert "prometheus.example.com" not in repr(options)  # it may come from a secret
    assert parse_options({**VALID, "strategy": "rolling", "analysis": ""}).canary is None


MALFORMED = [
    ({"strategy": "blue-green"}, "strategy: 'blue-green' is not one of rolling, canary"),
    ({"strategy": "rolling"}, "analysis: only used with strategy canary"),
    ({"mode": "rollback"}, "strategy: canary releases a new image (mode deploy), not mode rollback"),
    ({"canary-traffic": "mesh"}, "canary-traffic: 'mesh' is not one of replicas, gateway"),
    ({"canary-traffic": "gateway"}, "canary-route: the HTTPRoute to reweight"),
    ({"canary-traffic": "gateway", "canary-route": "Api"}, "canary-route: the HTTPRoute"),
    ({"canary-route": "api"}, "canary-route: only used with canary-traffic gateway"),
    ({"canary-steps": "25,5"}, "canary-steps: '25,5' is not a list of percentages"),
    ({"canary-steps": "5,5"}, "canary-steps: '5,5'"),
    ({"canary-steps": "0"}, "canary-steps: '0'"),
    ({"canary-steps": "100"}, "canary-steps: '100'"),
    ({"canary-steps": "5, 25"}, "canary-steps: '5, 25'"),
    ({"canary-steps": ",".join(str(n) for n in range(1, 12))}, "at most 10"),
    ({"canary-pause": "0s"}, "canary-pause: '0s' is not a duration from 1s to 21600s"),
    ({"canary-pause": "7h"}, "canary-pause: '7h'"),
    ({"analysis": ""}, "analysis: required with strategy canary, as a JSON object"),
    ({"analysis": "{"}, "analysis: not JSON"),
    ({"analysis": "[]"}, "analysis: required with strategy canary, as a JSON object"),
    ({"analysis": analysis(extra=1)}, "analysis: unknown key(s) 'extra'"),
    ({"analysis": analysis(prometheus="ftp://x")}, "the Prometheus URL is not an http(s) URL"),
    ({"analysis": analysis(prometheus="https://u:p@x")}, "must not carry credentials"),
    ({"analysis": analysis(prometheus="https://x/?q=1")}, "must be a base URL"),
    ({"analysis": analysis(prometheus="http://x", **{})}, ""),  # no token: http is fine
    ({"analysis-token": "t0ken", "analysis": analysis(prometheus="http://x")}, "must use https"),
    ({"analysis-token": "a token"}, "analysis-token: not a token"),
    ({"analysis-url": "https://y"}, "in analysis or analysis-url, not both"),
    ({"analysis": analysis(prometheus=None)}, "analysis: prometheus (or analysis-url) is required"),
    ({"analysis": analysis(interval="0s")}, "analysis: interval: '0s'"),
    ({"analysis": analysis(interval="2h")}, "analysis: interval: '2h'"),
    ({"analysis": analysis(**{"on-no-data": "skip"})}, "on-no-data must be one of fail, pass"),
    ({"analysis": analysis(metrics=[])}, "metrics must be a list of 1 to 10 metrics"),
    ({"analysis": analysis(metrics=[METRIC] * 11)}, "metrics must be a list of 1 to 10"),
    ({"analysis": analysis(metrics=[METRIC, METRIC])}, "metric names must be unique"),
    ({"analysis": analysis(metrics=["x"])}, "metrics[0] is not an object"),
    ({"analysis": analysis(metrics=[{**METRIC, "name": "Errors"}])}, "name must be a lowercase"),
    ({"analysis": analysis(metrics=[{**METRIC, "query": " "}])}, "query must be a PromQL"),
    ({"analysis": analysis(metrics=[{**METRIC, "query": "x\x07"}])}, "control characters"),
    ({"analysis": analysis(metrics=[{**METRIC, "query": "${{ secrets.X }}"}])}, "${{"),
    ({"analysis": analysis(metrics=[{**METRIC, "min": 1}])}, "needs exactly one bound"),
    ({"analysis": analysis(metrics=[{"name": "a", "query": "up"}])}, "needs exactly one bound"),
    ({"analysis": analysis(metrics=[{**METRIC, "max": "1"}])}, "a finite number"),
    ({"analysis": analysis(metrics=[{**METRIC, "max": True}])}, "a finite number"),
    ({"analysis": analysis(metrics=[{**METRIC, "tags": 1}])}, "unknown key(s) 'tags'"),
    ({"analysis": '{"prometheus": "https://x", "metrics": [{"name": "a", "query": "up", "max": NaN}]}'}, "analysis: not JSON (NaN is not a JSON number)"),
    ({"analysis": '{"prometheus": "https://x", "metrics": [{"name": "a", "query": "up", "max": Infinity}]}'}, "Infinity is not a JSON number"),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "expected"), MALFORMED)
def test_malformed_canary_inputs_are_named(changes: dict[str, str], expected: str) -> None:
    found = problems(**changes)
    if not expected:
        assert found == []
        return
    assert any(expected in problem for problem in found), found


def test_the_secret_url_is_never_quoted() -> None:
    found = problems(
        **{"analysis-url": "https://s3cret.example.com/?a", "analysis": analysis(prometheus=None)}
    )
    assert found and not any("s3cret" in problem for problem in found)


def test_every_problem_at_once_and_nothing_runs(deploy: Deploy, sandbox: Sandbox) -> None:
    result = deploy(
        "--image",
        image("v2"),
        "--strategy",
        "canary",
        "--canary-steps",
        "50,5",
        "--canary-pause",
        "forever",
        env={"CDGEN_ANALYSIS": analysis(metrics=[{"name": "x"}])},
    )
    assert result.code == 2
    for said in ("canary-steps: '50,5'", "canary-pause: 'forever'", "needs exactly one bound"):
        assert said in result.log
    assert sandbox.calls() == []
