"""Every malformed input is rejected before kubectl runs at all."""

from __future__ import annotations

import pytest
from support.sandbox import image

from cdgen.deploy.durations import format_seconds, parse_duration
from cdgen.deploy.options import InvalidInputsError, parse_options

from .conftest import Deploy, Sandbox

VALID = {"image": image("v2"), "namespace": "staging", "deployment": "api"}
DIGEST = "sha256:" + "a" * 64

MALFORMED = [
    ("mode", "redeploy"),
    ("image", ""),
    ("image", "ghcr.io/acme/api"),  # neither tag nor digest
    ("image", "ghcr.io/Acme/api:v1"),  # uppercase path
    ("image", "ghcr.io/acme/api:v1; rm -rf /"),
    ("image", "ghcr.io/acme/api:v1\n--kubeconfig=/etc/passwd"),
    ("image", "ghcr.io/acme/api@sha256:abc"),
    ("image", "ghcr.io/acme/api:-v1"),
    ("image", "${{ secrets.X }}"),
    ("only-if-live", "ghcr.io/acme/api"),  # the same rules as image
    ("only-if-live", "ghcr.io/acme/api:v1; kubectl delete ns staging"),
    ("only-if-live", "${{ needs.deploy-staging.outputs.deployed-image }}"),
    ("namespace", ""),
    ("namespace", "Staging"),
    ("namespace", "-staging"),
    ("namespace", "a" * 64),
    ("namespace", "staging --all-namespaces"),
    ("deployment", "api_v2"),
    ("deployment", "api/x"),
    ("container", "API"),
    ("container", "--image=x"),
    ("rollout-timeout", "5"),
    ("rollout-timeout", "0s"),
    ("rollout-timeout", "5 m"),
    ("rollout-timeout", "-5m"),
    ("rollout-timeout", "7h"),
    ("smoke-url", "ftp://example.com/health"),
    ("smoke-url", "file:///etc/passwd"),
    ("smoke-url", "http:///health"),
    ("smoke-url", "https://example.com/he alth"),
    ("smoke-url", "http://example.com:99999/"),
    ("smoke-url", "javascript:alert(1)"),
    ("smoke-retries", "-1"),
    ("smoke-retries", "101"),
    ("smoke-retries", "three"),
    ("smoke-retries", "1.5"),
    ("smoke-interval", "1.5s"),
    ("smoke-interval", "2h"),
    ("smoke-timeout", "0s"),
    ("expect-version", "v1\nInjected: yes"),
    ("expect-version", "$(id)"),
    ("environment", "prod|uction"),
    ("environment", "<script>"),
    ("commit-time", "yesterday"),
    ("kubeconfig-file", "/tmp/x\nmore"),
]


@pytest.mark.parametrize(("name", "value"), MALFORMED)
def test_malformed_input_touches_nothing(
    deploy: Deploy, sandbox: Sandbox, name: str, value: str
) -> None:
    inputs = {**VALID, name: value}
    args = [f"--{key}={val}" for key, val in inputs.items()]
    result = deploy(*args, env={"CDGEN_NAMESPACE": "", "CDGEN_DEPLOYMENT": ""})
    assert result.code == 2
    assert sandbox.calls() == []
    assert result.outputs["result"] == "failed"
    assert f"::error title=Invalid input::{name}: " in result.log
    assert "invalid input" in result.summary


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(InvalidInputsError) as caught:
        parse_options({"image": "x", "namespace": "Bad", "deployment": "", "smoke-retries": "x"})
    assert [problem.split(":")[0] for problem in caught.value.problems] == [
        "image",
        "namespace",
        "deployment",
        "container",
        "smoke-retries",
    ]


def test_kubeconfig_content_and_file_are_exclusive() -> None:
    with pytest.raises(InvalidInputsError, match="not both"):
        parse_options({**VALID, "kubeconfig": "apiVersion: v1", "kubeconfig-file": "/k"})


@pytest.mark.parametrize(
    "reference",
    [
        "nginx:1.27",
        "ghcr.io/acme/api:v1",
        "localhost:5000/team/api:latest",
        "registry.example.com:443/a/b/c:1.0.0-rc.1",
        f"ghcr.io/acme/api@{DIGEST}",
        f"ghcr.io/acme/api:v1@{DIGEST}",
        "my-registry.io/a__b/c.d-e:TAG_1",
    ],
)
def test_image_references_accepted(reference: str) -> None:
    assert parse_options({**VALID, "image": reference}).image == reference


def test_defaults() -> None:
    options = parse_options(VALID)
    assert (options.mode, options.container, options.environment) == ("deploy", "api", "staging")
    assert (options.rollout_timeout, options.smoke_retries, options.smoke_interval) == (300, 5, 10)
    assert options.smoke_timeout == 10
    assert options.commit_time is None
    assert options.only_if_live == ""


def test_commit_time_with_z_suffix() -> None:
    options = parse_options({**VALID, "commit-time": "2026-01-02T03:04:05Z"})
    assert options.commit_time is not None
    assert options.commit_time.isoformat() == "2026-01-02T03:04:05+00:00"


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("5m", 300), ("1h30m", 5400), ("1m30s", 90), ("0s", 0)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "1.5s", "5s1m", " 5s", "1d"])
def test_parse_duration_rejects(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.42, "0.4s"), (42, "42s"), (185, "3m 05s"), (7260, "2h 01m"), (200000, "2d 07h")],
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text
