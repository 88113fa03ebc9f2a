"""The pin table, and the online check that keeps it true (tools/check_pins.py), run here
against local bare repositories with lightweight and annotated tags."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.generated import ROOT

from cdgen.deploy.site.clis import CLI_PINS, CliPin
from cdgen.pins import (
    BOT_MOVABLE,
    PINS,
    TOOL_RELEASES,
    Pin,
    ToolRelease,
    find_pins,
    keep_newer_pins,
    normalize_pins,
    pin,
    table_record,
)

sys.path.insert(0, str(ROOT / "tools"))
import check_pins

GIT = ["git", "-c", "user.name=cdgen tests", "-c", "user.email=tests@cdgen.invalid"]
GIT += ["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main"]


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run([*GIT, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _commit(work: Path, message: str, files: dict[str, str] | None = None) -> str:
    for name, text in (files or {"README": message}).items():
        (work / name).write_text(text, encoding="utf-8")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", message)
    return _git(work, "rev-parse", "HEAD")


def _remote(base: Path, repository: str, tags: dict[str, tuple[str, bool]]) -> dict[str, str]:
    """A bare repository at base/<repository>.git whose tags point at fresh commits.

    ``tags``: name -> (commit label, annotated). Returns label -> commit SHA."""
    work = base / "work" / repository
    work.mkdir(parents=True)
    _git(work, "init", "-q")
    commits: dict[str, str] = {}
    for name, (label, annotated) in tags.items():
        if label not in commits:
            commits[label] = _commit(work, label)
        if annotated:
            _git(work, "tag", "-a", "-m", f"release {name}", name, commits[label])
        else:
            _git(work, "tag", name, commits[label])
    bare = base / f"{repository}.git"
    bare.parent.mkdir(parents=True, exist_ok=True)
    _git(base, "clone", "-q", "--bare", str(work), str(bare))
    return commits


@pytest.fixture
def remotes(tmp_path: Path) -> tuple[str, dict[str, dict[str, str]]]:
    """acme/light (lightweight v1.0.0), acme/annotated (annotated v2.0.0), acme/moved (v1.0.0
    moved to a later commit, annotated)."""
    made = {
        "acme/light": _remote(tmp_path, "acme/light", {"v1.0.0": ("one", False)}),
        "acme/annotated": _remote(tmp_path, "acme/annotated", {"v2.0.0": ("two", True)}),
        "acme/moved": _remote(
            tmp_path, "acme/moved", {"v0.9.0": ("old", False), "v1.0.0": ("new", True)}
        ),
    }
    return tmp_path.as_uri(), made


def _pin(repository: str, tag: str, sha: str) -> Pin:
    return Pin(repository, sha, tag, frozenset({"x"}))


def test_a_pin_holds_for_lightweight_and_annotated_tags(
    remotes: tuple[str, dict[str, dict[str, str]]],
) -> None:
    base, made = remotes
    light = _pin("acme/light", "v1.0.0", made["acme/light"]["one"])
    annotated = _pin("acme/annotated", "v2.0.0", made["acme/annotated"]["two"])
    assert check_pins.check_all([light, annotated], base) == []


def test_an_annotated_tag_object_is_not_the_commit(
    remotes: tuple[str, dict[str, dict[str, str]]], tmp_path: Path
) -> None:
    base, _ = remotes
    tag_object = _git(tmp_path / "acme/annotated.git", "rev-parse", "v2.0.0")
    (problem,) = check_pins.check_all([_pin("acme/annotated", "v2.0.0", tag_object)], base)
    assert "v2.0.0 is commit" in problem and f"pins {tag_object}" in problem


def test_every_wrong_pin_is_listed(remotes: tuple[str, dict[str, dict[str, str]]]) -> None:
    base, made = remotes
    wrong = [
        _pin("acme/moved", "v1.0.0", made["acme/moved"]["old"]),  # the tag moved on
        _pin("acme/light", "v9.9.9", made["acme/light"]["one"]),  # no such tag
        _pin("acme/missing", "v1.0.0", "0" * 40),  # no such repository
    ]
    problems = check_pins.check_all(wrong, base)
    assert len(problems) == 3
    assert problems[0] == (
        f"acme/moved: v1.0.0 is commit {made['acme/moved']['new']}, "
        f"the table pins {made['acme/moved']['old']}"
    )
    assert problems[1] == "acme/light: tag v9.9.9 does not exist"
    assert problems[2].startswith("acme/missing: cannot list the tags of ")


def test_the_command_exits_1_with_the_list(
    remotes: tuple[str, dict[str, dict[str, str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = remotes
    # The real table against remotes that hold none of its actions: every pin is reported.
    assert check_pins.main(["--base-url", base]) == 1
    out = capsys.readouterr()
    wrong = len(PINS) + len(TOOL_RELEASES) + len(CLI_PINS)
    assert out.out.count("error: ") == wrong
    assert f"{wrong} pin problem(s) found" in out.err


def test_a_tool_release_must_be_a_tag_of_its_repository(
    remotes: tuple[str, dict[str, dict[str, str]]],
) -> None:
    base, _ = remotes
    assert check_pins.check_tool(ToolRelease("acme/annotated", "v2.0.0"), base) is None
    assert check_pins.check_tool(ToolRelease("acme/light", "v1.0.0"), base) is None
    problem = check_pins.check_tool(ToolRelease("acme/light", "v1.0.1"), base)
    assert problem == "acme/light: release tag v1.0.1 does not exist"
    missing = check_pins.check_tool(ToolRelease("acme/missing", "v1"), base)
    assert missing is not None and missing.startswith("acme/missing: cannot list the tags of ")


def test_the_site_clis_pins_are_checked_like_the_actions(tmp_path: Path) -> None:
    """Each CLI version's release tag must be the commit the table records."""
    made = _remote(tmp_path, "vercel/vercel", {"vercel@58.4.4": ("release", True)})
    good = CliPin("vercel", "58.4.4", "vercel/vercel", "vercel@58.4.4", made["release"], 18)
    moved = CliPin("vercel", "58.4.4", "vercel/vercel", "vercel@58.4.4", "0" * 40, 18)
    gone = CliPin("vercel", "99.0.0", "vercel/vercel", "vercel@99.0.0", made["release"], 18)
    base = tmp_path.as_uri()
    assert check_pins.check_cli_pins([good], base) == []
    assert check_pins.check_cli_pins([moved, gone], base) == [
        f"vercel/vercel: vercel@58.4.4 is commit {made['release']}, the table pins {'0' * 40}",
        "vercel/vercel: tag vercel@99.0.0 does not exist",
    ]


@pytest.mark.parametrize("entry", list(CLI_PINS.values()), ids=lambda p: p.package)
def test_cli_pin_is_well_formed(entry: CliPin) -> None:
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", entry.version)
    assert entry.tag == f"{entry.package}@{entry.version}"
    assert re.fullmatch(r"[0-9a-f]{40}", entry.commit)
    assert entry.spec() == entry.tag


def test_the_own_action_record_is_checked_against_action_yml(tmp_path: Path) -> None:
    repo = tmp_path / "cdgen"
    repo.mkdir()
    _git(repo, "init", "-q")
    action = "name: x\ninputs:\n  image:\n    required: true\n  mode:\n    default: deploy\n"
    action += "outputs:\n  result:\n    value: x\nruns:\n  using: composite\n"
    sha = _commit(repo, "action", {"action.yml": action})
    record = tmp_path / "record.json"
    record.write_text(json.dumps({sha: ["image", "mode"]}), encoding="utf-8")
    assert check_pins.check_own_record(record, repo) == []
    record.write_text(json.dumps({sha: ["image"], "f" * 40: ["image"]}), encoding="utf-8")
    problems = check_pins.check_own_record(record, repo)
    assert len(problems) == 2
    assert f"commit {sha}: action.yml has inputs ['image', 'mode']" in problems[0]
    assert f"commit {'f' * 40}" in problems[1]


def test_the_example_pins_a_recorded_commit_of_the_action() -> None:
    from ruamel.yaml import YAML

    config = YAML(typ="safe").load((ROOT / "examples/hello-api/cdgen.yml").read_text())
    record = json.loads(check_pins.OWN_RECORD.read_text(encoding="utf-8"))
    assert config["action"]["ref"] in record


@pytest.mark.parametrize("entry", list(PINS.values()), ids=list(PINS))
def test_pin_is_well_formed(entry: Pin) -> None:
    assert re.fullmatch(r"[0-9a-f]{40}", entry.sha)
    assert re.fullmatch(r"v\d+(\.\d+){0,2}", entry.tag)
    assert re.fullmatch(r"[\w.-]+/[\w.-]+", entry.repository)
    assert entry.inputs
    # Google's actions name inputs with '_', azure/login has enable-AzPSSession.
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name) for name in entry.inputs)
    assert entry.uses == f"{entry.repository}@{entry.sha}"


def test_table_is_keyed_by_repository_and_sorted() -> None:
    assert list(PINS) == sorted(PINS)
    assert all(key == entry.repository for key, entry in PINS.items())


def test_security_relevant_inputs_exist() -> None:
    # The templates depend on these; a bump that drops one must fail here, not in a run.
    assert "persist-credentials" in pin("actions/checkout").inputs
    assert {"push", "tags", "cache-from", "cache-to"} <= pin("docker/build-push-action").inputs
    assert {"subject-name", "subject-digest"} <= pin("actions/attest-build-provenance").inputs
    assert {"role-to-assume", "aws-region"} <= pin("aws-actions/configure-aws-credentials").inputs
    assert "registries" in pin("aws-actions/amazon-ecr-login").inputs
    google = pin("google-github-actions/auth").inputs
    assert {"workload_identity_provider", "service_account", "token_format"} <= google
    assert {"client-id", "tenant-id", "subscription-id"} <= pin("azure/login").inputs
    assert "use-kubelogin" in pin("azure/aks-set-context").inputs
    assert "kubelogin-version" in pin("azure/use-kubelogin").inputs


@pytest.mark.parametrize("release", TOOL_RELEASES, ids=[t.repository for t in TOOL_RELEASES])
def test_tool_release_is_a_version_tag(release: ToolRelease) -> None:
    assert re.fullmatch(r"[\w.-]+/[\w.-]+", release.repository)
    assert re.fullmatch(r"v\d+(\.\d+){2}", release.tag)


def test_unknown_action_raises_clear_key_error() -> None:
    with pytest.raises(KeyError, match=r"no pin for action 'acme/unknown'.*actions/checkout"):
        pin("acme/unknown")


# Pins in generated files: found, blanked for the body hash, kept when a bot moved them.

SHA_A, SHA_B = "a" * 40, "b" * 40
BODY = f"""jobs:
  build:
    steps:
      - uses: actions/checkout@{SHA_A} # v7.0.1
      - name: x
        uses: docker/login-action@{SHA_A} # v4.1.0
      - uses: cdgen-dev/cdgen@{SHA_A} # v0.1.0
"""


def test_newer_existing_pins_are_kept_older_ones_are_not() -> None:
    existing = BODY.replace(f"checkout@{SHA_A} # v7.0.1", f"checkout@{SHA_B} # v7.10.0")
    existing = existing.replace(f"login-action@{SHA_A} # v4.1.0", f"login-action@{SHA_B} # v4.0.9")
    merged = keep_newer_pins(BODY, find_pins(existing))
    assert f"actions/checkout@{SHA_B} # v7.10.0" in merged
    assert f"docker/login-action@{SHA_A} # v4.1.0" in merged


def test_unversioned_existing_pins_are_not_kept() -> None:
    existing = BODY.replace(f"checkout@{SHA_A} # v7.0.1", f"checkout@{SHA_B} # main")
    assert keep_newer_pins(BODY, find_pins(existing)) == BODY


def test_cdgen_s_own_action_is_never_kept() -> None:
    existing = BODY.replace(
        f"cdgen-dev/cdgen@{SHA_A} # v0.1.0", f"cdgen-dev/cdgen@{SHA_B} # v9.0.0"
    )
    assert keep_newer_pins(BODY, find_pins(existing)) == BODY


def test_the_table_record_moves_with_the_table_s_pins_of_that_file_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = f"      - uses: {pin('actions/checkout').uses} # v7.0.1\n"
    recorded = table_record(body)
    assert table_record(body.replace(pin("actions/checkout").sha, SHA_B)) == recorded
    setup_node = pin("actions/setup-node")
    monkeypatch.setitem(
        PINS, setup_node.repository, Pin(setup_node.repository, SHA_B, "v9", setup_node.inputs)
    )
    assert table_record(body) == recorded  # a pin the file does not use
    checkout = pin("actions/checkout")
    monkeypatch.setitem(
        PINS, checkout.repository, Pin(checkout.repository, SHA_B, "v9", checkout.inputs)
    )
    assert table_record(body) != recorded


def test_normalize_pins_blanks_only_the_given_actions() -> None:
    blanked = normalize_pins(BODY, BOT_MOVABLE)
    assert "actions/checkout@pinned" in blanked and "docker/login-action@pinned" in blanked
    assert f"cdgen-dev/cdgen@{SHA_A} # v0.1.0" in blanked
    assert "cdgen-dev/cdgen@pinned" in normalize_pins(BODY, None)
