"""From a descriptor on disk to the full text of every generated file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
from cdgen.workspace import read_generated


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

    def inputs_digest(self, descriptor: bytes, rel: str) -> str:
        return digest(__version__, fingerprint(), self.source, descriptor, rel)


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
    from cdgen.model import build_pipeline
    from cdgen.render import render_pipeline
    from cdgen.validate import validate_document

    shown = display_path(target.config)
    if descriptor is None:
        doc = read_descriptor(target.config, shown)
    else:
        doc = parse_descriptor(descriptor, shown)
    validate_document(doc)
    pipeline = build_pipeline(doc.data)
    bodies = render_pipeline(pipeline, target.source)
    existing = read_generated(target.root)
    files: dict[str, str] = {}
    for rel, fresh in bodies.items():
        old = split_generated(existing.get(rel, ""))
        body = keep_newer_pins(fresh, find_pins(old[1])) if old else fresh
        state = State(target.inputs_digest(doc.text, rel), len(bodies), body_digest(body))
        files[rel] = make_header(__version__, target.source, state) + body
    notes = []
    if not pipeline.action.pinned:
        notes.append(
            f"{doc.path}: the deploy jobs use {pipeline.action.uses}, a movable tag; pin a "
            "release commit with action.ref (40-hex SHA) and action.version"
        )
    return Rendered(files, tuple(notes), pipeline.unmanaged)


def display_path(path: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)
