"""A Vercel deployment tested at its own https URL for real: through a local edge (an HTTPS
proxy with a certificate for *.vercel.app that the test trusts), with no probe double."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.site_lab import SiteLab
from support.vercel_edge import VercelEdge, make_certificates, start_edge

from cdgen.deploy.outcome import DEPLOYED, FAILED

from .conftest import VERCEL_INPUTS, Deploy

SECRET = "bypass-edge-7d1a"


@pytest.fixture
def edge(
    lab: SiteLab, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[VercelEdge]:
    certificates = make_certificates(tmp_path_factory.mktemp("certificates"))
    started = start_edge(lab.state, certificates)
    monkeypatch.setenv("https_proxy", started.proxy)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    yield started
    started.shutdown()
    started.server_close()


def _prebuilt(files: dict[str, str]) -> None:
    static = Path(".vercel/output/static")
    static.mkdir(parents=True)
    Path(".vercel/output/config.json").write_text('{"version": 3}', encoding="utf-8")
    for name, text in files.items():
        (static / name.lstrip("/")).write_text(text, encoding="utf-8")


@pytest.mark.parametrize(("files", "result"), [({"/health": "ok"}, DEPLOYED), ({}, FAILED)])
def test_the_new_deployment_is_smoke_tested_at_its_own_url(
    edge: VercelEdge, deploy: Deploy, files: dict[str, str], result: str
) -> None:
    _prebuilt(files)
    run = deploy({**VERCEL_INPUTS, "environment": "staging", "smoke-url": "/health"})
    assert run.outcome.result == result, run.log
    assert edge.seen[0][:2] == ("web-2.vercel.app", "/health")


def test_deployment_protection_is_passed_with_the_bypass_secret(
    edge: VercelEdge, deploy: Deploy
) -> None:
    edge.bypass = SECRET
    _prebuilt({"/health": "ok"})
    inputs = {**VERCEL_INPUTS, "environment": "staging", "smoke-url": "/health"}
    assert deploy({**inputs, "site-bypass": SECRET}).outcome.result == DEPLOYED
    assert edge.seen[-1] == ("web-2.vercel.app", "/health", SECRET)
