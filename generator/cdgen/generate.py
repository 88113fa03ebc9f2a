"""From a descriptor on disk to the full text of every generated file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cdgen import __version__
from cdgen.header import (
    State,
    body_digest,
    digest,
    find_pins,
    keep_newer_pins,
    make_header,
    split_generated,
)
from cdgen.resources import fingerprint
from cdgen.stamp import Stamp, build_stamp, release_tag
from cdgen.workspace import read_generated

if TYPE_CHECKING:
    from cdgen.model import Action


@dataclass(frozen=True)
class Target:
    """One generation: the descriptor and the directory the files are written under."""

    config: Path
    root: Path

    @property
    def source(self) -> str:
        """How the headers name the descriptor: relative to the root when inside it."""
        config, root = self.config.resolve(), self.root.resolve()
        if config.is_relative_to(root):
            return config.relative_to(root).as_posix()
        return config.name

    def inputs_digest(self, descriptor: bytes, rel: str, stamp: Stamp | None = None) -> str:
        """What a file came from: this cdgen (version, build commit, templates and schema),
        the descriptor, and the file's own path."""
        built = (stamp or build_stamp()).describe()
        return digest(__version__, built, fingerprint(), self.source, descriptor, rel)


def is_up_to_date(target: Target) -> bool:
    """True when every generated file carries the current inputs and an intact body.

    Needs no parsing or rendering: the headers record what the files came from.
    """
    try:
        descriptor = target.config.read_bytes()
    except OSError:
        return False
    generated = read_generated(target.root)
    if not generated:
        return False
    for rel, text in generated.items():
        parsed = split_generated(text)
        if parsed is None:
            return False
        state, body = parsed
        if state.files != len(generated) or state.inputs != target.inputs_digest(descriptor, rel):
            return False
        if body_digest(body) != state.body:
            return False
    return True


@dataclass(frozen=True)
class Rendered:
    files: dict[str, str]
    notes: tuple[str, ...]
    unmanaged: frozenset[str] = frozenset()


def render_target(target: Target, descriptor: bytes | None = None) -> Rendered:
    """Validate the descriptor and render every file, headers included.

    `descriptor` stands in for the config file's bytes when it is not written yet.
    Raises DescriptorError (every violation) before anything is rendered.
    """
    from cdgen.descriptor import parse_descriptor, read_descriptor
    from cdgen.errors import DescriptorError
    from cdgen.limits import check_file_sizes, find_job_time_violations
    from cdgen.model import build_pipeline
    from cdgen.render import render_pipeline
    from cdgen.validate import validate_document

    shown = display_path(target.config)
    if descriptor is None:
        doc = read_descriptor(target.config, shown)
    else:
        doc = parse_descriptor(descriptor, shown)
    validate_document(doc)
    stamp = build_stamp()
    pipeline = build_pipeline(doc.data, stamp)
    too_long = list(find_job_time_violations(doc, pipeline))
    if too_long:
        raise DescriptorError(too_long)
    bodies = render_pipeline(pipeline, target.source)
    check_file_sizes(bodies)
    existing = read_generated(target.root)
    files: dict[str, str] = {}
    for rel, fresh in bodies.items():
        old = split_generated(existing.get(rel, ""))
        body = keep_newer_pins(fresh, find_pins(old[1])) if old else fresh
        state = State(target.inputs_digest(doc.text, rel, stamp), len(bodies), body_digest(body))
        files[rel] = make_header(__version__, target.source, state) + body
    return Rendered(files, pin_notes(doc.path, pipeline.action, stamp), pipeline.unmanaged)


def pin_notes(shown: str, action: Action, stamp: Stamp) -> tuple[str, ...]:
    """Warnings about how cdgen's own code is pinned: the drift check runs this cdgen's
    commit, and the deploy jobs its action unless the descriptor pins one."""
    own_action = action.ref == stamp.commit
    if stamp.commit is None:
        what = "the drift check installs cdgen from the release tag " + release_tag()
        if not action.pinned:
            what += f" and the deploy jobs use {action.uses}, a movable tag"
        return (
            f"{shown}: this cdgen knows no commit of its own (it was built without git "
            f"metadata): {what}; install a release build of cdgen, and pin its commit with "
            "action.ref (40-hex SHA) and action.version",
        )
    if stamp.release:
        return ()
    modified = " with uncommitted changes" if stamp.dirty else ""
    users = "the drift check and the deploy jobs pin" if own_action else "the drift check pins"
    return (
        f"{shown}: this cdgen was built from commit {stamp.commit}{modified}, which is not a "
        f"release: {users} {action.repository}@{stamp.commit}, which may not be published "
        "there; use a release build of cdgen (and pin it with action.ref and action.version)",
    )


def display_path(path: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)
