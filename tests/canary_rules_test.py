"""A canary in cdgen.yml: refused where it would fail at every deploy, each problem at its
position; its pauses counted in the job's worst-case time against GitHub's 6-hour limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdgen.cli import main
from cdgen.descriptor import parse_descriptor
from cdgen.errors import DescriptorError
from cdgen.limits import JOB_MINUTES
from cdgen.validate import validate_document

HEAD = """\
version: 1
name: api
environments:
  - name: production
    url: https://example.com
    kubernetes: { namespace: production, rollout-timeout: 5m }
    smoke: { path: /health }
    canary:
"""
ANALYSIS = """\
      analysis:
        prometheus: https://prometheus.example.com
        metrics:
          - { name: errors, query: 'sum(rate(x[1m]))', max: 0.01 }
"""


def problems(canary: str) -> list[str]:
    try:
        validate_document(parse_descriptor((HEAD + canary).encode(), "cdgen.yml"))
    except DescriptorError as error:
        return [str(v) for v in error.violations]
    return []


def test_a_canary_with_defaults_is_valid() -> None:
    assert problems(ANALYSIS) == []


@pytest.mark.parametrize(
    ("canary", "expected"),
    [
        ("      traffic: gateway\n" + ANALYSIS, "cdgen.yml:9:7: environments[0].canary: traffic: gateway needs the HTTPRoute to reweight: add `route`"),
        ("      route: api\n" + ANALYSIS, "cdgen.yml:9:14: environments[0].canary.route: only used with `traffic: gateway`"),
        ("      traffic: mesh\n" + ANALYSIS, "cdgen.yml:9:16: environments[0].canary.traffic: must be one of: replicas, gateway (got 'mesh')"),
        ("      steps: [25, 5]\n" + ANALYSIS, "cdgen.yml:9:14: environments[0].canary.steps: must rise: each step a larger percentage than the one before"),
        ("      steps: [0]\n" + ANALYSIS, "cdgen.yml:9:15: environments[0].canary.steps[0]: must be at least 1 (got 0)"),
        ("      steps: [100]\n" + ANALYSIS, "environments[0].canary.steps[0]: must be at most 99 (got 100)"),
        ("      steps: []\n" + ANALYSIS, "environments[0].canary.steps: must have at least 1 item(s)"),
        ("      pause: 7h\n" + ANALYSIS, "environments[0].canary.pause: must be a duration such as 90s, 5m or 1h, from 1s to 6h"),
        ("      pause: 10m\n", "cdgen.yml:8:5: environments[0].canary: missing required key 'analysis'"),
        (ANALYSIS.replace("prometheus: https://prometheus.example.com", "prometheus-secret: PROM\n        prometheus: https://p.example.com"), "give the Prometheus as exactly one of `prometheus` or `prometheus-secret`"),
        (ANALYSIS.replace("prometheus: https://prometheus.example.com", "interval: 1m"), "give the Prometheus as exactly one of"),
        (ANALYSIS.replace("https://prometheus", "http://prometheus") + "        token-secret: PROM_TOKEN\n", "environments[0].canary.analysis.prometheus: must use https with `token-secret`"),
        (ANALYSIS.replace("max: 0.01", "max: 0.01, min: 0"), "cdgen.yml:12:13: environments[0].canary.analysis.metrics[0]: needs exactly one bound: `max` or `min`"),
        (ANALYSIS.replace(", max: 0.01", ""), "needs exactly one bound"),
        (ANALYSIS.replace("max: 0.01", "max: .nan"), "environments[0].canary.analysis.metrics[0].max: must be a finite number"),
        (ANALYSIS.replace("max: 0.01", "max: .inf"), "environments[0].canary.analysis.metrics[0].max: must be a finite number"),
        (ANALYSIS.replace("max: 0.01", "max: '0.01'"), "environments[0].canary.analysis.metrics[0].max: must be a number"),
        (ANALYSIS + "          - { name: errors, query: up, min: 1 }\n", "environments[0].canary.analysis.metrics[1].name: repeats the name of metrics[0]"),
        (ANALYSIS.replace("'sum(rate(x[1m]))'", "'x${{ secrets.T }}'"), "must be a non-empty PromQL expression without `${{` or control characters"),
        (ANALYSIS.replace("'sum(rate(x[1m]))'", '"up\\x07"'), "cdgen.yml:12:39: \\x07 stands for control character U+0007, which is not allowed"),
        (ANALYSIS.replace("name: errors", "name: Errors"), "metrics[0].name: must be a lowercase name"),
        (ANALYSIS.replace("https://prometheus.example.com", "https://u@p.example.com"), "analysis.prometheus: must be an http:// or https:// URL"),
        (ANALYSIS + "        on-no-data: ignore\n", "analysis.on-no-data: must be one of: fail, pass (got 'ignore')"),
        (ANALYSIS + "        interval: 2h\n", "analysis.interval: must be a duration such as 90s, 5m or 1h, from 1s to 1h"),
    ],
)  # fmt: skip
def test_refused_at_its_position(canary: str, expected: str) -> None:
    found = problems(canary)
    assert any(expected in problem for problem in found), found


def test_a_multi_line_query_is_fine() -> None:
    query = "          - name: ratio\n            query: |\n              sum(rate(a[1m]))\n                / sum(rate(b[1m]))\n            max: 1\n"
    assert problems(ANALYSIS + query) == []


def _generate(tmp_path: Path, canary: str) -> int:
    (tmp_path / "cdgen.yml").write_text(HEAD + canary, encoding="utf-8")
    return main(["generate", "--config", str(tmp_path / "cdgen.yml")])


def test_pauses_over_six_hours_are_refused_naming_the_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    canary = "      steps: [5, 25, 50]\n      pause: 2h\n" + ANALYSIS
    assert _generate(tmp_path, canary) == 1
    err = capsys.readouterr().err
    assert "cdgen.yml:4:11: environments[0]: the deploy job of 'production' could take" in err
    assert "canary steps and pauses" in err
    assert (
        f"GitHub's 6-hour limit for a job on a GitHub-hosted runner ({JOB_MINUTES} minutes" in err
    )
    assert not (tmp_path / ".github").exists()


def test_pauses_within_six_hours_are_accepted(tmp_path: Path) -> None:
    canary = "      steps: [5, 25, 50]\n      pause: 1h40m\n" + ANALYSIS
    assert _generate(tmp_path, canary.replace("1h40m", "100m")) == 0
    cd = (tmp_path / ".github/workflows/cd.yml").read_text(encoding="utf-8")
    minutes = int(cd.split("timeout-minutes: ")[2].split("\n")[0])  # the deploy job's
    assert 3 * 100 < minutes <= JOB_MINUTES
