"""`.github/actionlint.yaml`, written only while an environment names a self-hosted runner:
created with the first `runs-on`, removed with the last, never taking the place of a user's
own configuration (which `unmanaged` hands back)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.generated import ARTICLE, git_repository

from cdgen.cli import main

CONFIG = ".github/actionlint.yaml"
WITH_RUNNER = ARTICLE.replace(
    "    approval: reviewers\n", "    approval: reviewers\n    runs-on: prod-deployer\n", 1
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert WITH_RUNNER != ARTICLE
    return git_repository(tmp_path)


def test_written_with_the_first_runner_and_removed_with_the_last(repo: Path) -> None:
    assert main(["generate"]) == 0
    assert not (repo / CONFIG).exists()
    (repo / "cdgen.yml").write_text(WITH_RUNNER, encoding="utf-8")
    assert main(["generate"]) == 0
    config = YAML(typ="safe").load((repo / CONFIG).read_text())
    assert config == {"self-hosted-runner": {"labels": ["prod-deployer"]}}
    assert main(["check"]) == 0
    (repo / "cdgen.yml").write_text(ARTICLE, encoding="utf-8")
    assert main(["check"]) == 1  # the file is stale now
    assert main(["generate"]) == 0
    assert not (repo / CONFIG).exists()
    assert main(["check"]) == 0


def test_a_users_own_configuration_is_refused_then_handed_back(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own = "self-hosted-runner:\n  labels: [gpu]\n"
    (repo / ".github").mkdir()
    (repo / CONFIG).write_text(own, encoding="utf-8")
    (repo / "cdgen.yml").write_text(WITH_RUNNER, encoding="utf-8")
    assert main(["generate"]) == 1
    assert CONFIG in capsys.readouterr().err
    assert (repo / CONFIG).read_text() == own
    unmanaged = WITH_RUNNER.replace("version: 1\n", f"version: 1\nunmanaged: [{CONFIG}]\n", 1)
    (repo / "cdgen.yml").write_text(unmanaged, encoding="utf-8")
    assert main(["generate"]) == 0
    assert (repo / CONFIG).read_text() == own
    (repo / "cdgen.yml").write_text(ARTICLE, encoding="utf-8")
    assert main(["generate"]) == 0
    assert (repo / CONFIG).read_text() == own  # not cdgen's: never removed
