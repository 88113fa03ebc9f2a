"""The engine's smoke-url check refuses, up front, every URL no smoke test could fetch (the
hosts and ports the descriptor schema refuses too), and never crashes on one."""

from __future__ import annotations

import pytest

from cdgen.deploy.options import InvalidInputsError, parse_options


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
