from __future__ import annotations

import re
from pathlib import Path

import pytest

from cdgen.pins import PINS, Pin, pin

PINS_MD = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "action-pins.md"
ROW = re.compile(r"^\|\s*(?P<action>[\w.-]+/[\w.-]+)\s*\|\s*(?P<tag>\S+)\s*\|\s*(?P<sha>\S+)\s*\|$")


def read_reference_pins() -> dict[str, tuple[str, str]]:
    """The action table of action-pins.md as {action: (tag, sha)}."""
    rows: dict[str, tuple[str, str]] = {}
    for line in PINS_MD.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line.strip())
        if match:
            rows[match["action"]] = (match["tag"], match["sha"])
    return rows


def test_reference_table_is_parsed() -> None:
    rows = read_reference_pins()
    assert len(rows) >= len(PINS)
    assert "actions/checkout" in rows


@pytest.mark.parametrize("repository", sorted(PINS))
def test_pin_matches_reference(repository: str) -> None:
    reference = read_reference_pins()
    assert repository in reference, f"{repository} is not in action-pins.md"
    entry = PINS[repository]
    assert (entry.tag, entry.sha) == reference[repository]


@pytest.mark.parametrize("entry", list(PINS.values()), ids=list(PINS))
def test_pin_is_well_formed(entry: Pin) -> None:
    assert re.fullmatch(r"[0-9a-f]{40}", entry.sha)
    assert re.fullmatch(r"v\d+\.\d+\.\d+", entry.tag)
    assert re.fullmatch(r"[\w.-]+/[\w.-]+", entry.repository)
    assert entry.inputs
    assert all(re.fullmatch(r"[a-z][a-z0-9-]*", name) for name in entry.inputs)
    assert entry.uses == f"{entry.repository}@{entry.sha}"


def test_table_is_keyed_by_repository_and_sorted() -> None:
    assert list(PINS) == sorted(PINS)
    assert all(key == entry.repository for key, entry in PINS.items())


def test_templates_actions_are_pinned() -> None:
    expected = {
        "actions/attest-build-provenance",
        "actions/checkout",
        "actions/download-artifact",
        "actions/setup-node",
        "actions/upload-artifact",
        "docker/build-push-action",
        "docker/login-action",
        "docker/metadata-action",
        "docker/setup-buildx-action",
        "docker/setup-qemu-action",
    }
    assert expected <= set(PINS)


def test_security_relevant_inputs_exist() -> None:
    # The templates depend on these; a bump that drops one must fail here, not in a run.
    assert "persist-credentials" in pin("actions/checkout").inputs
    assert {"push", "tags", "cache-from", "cache-to"} <= pin("docker/build-push-action").inputs
    assert {"subject-name", "subject-digest"} <= pin("actions/attest-build-provenance").inputs


def test_unknown_action_raises_clear_key_error() -> None:
    with pytest.raises(KeyError, match=r"no pin for action 'acme/unknown'.*actions/checkout"):
        pin("acme/unknown")
