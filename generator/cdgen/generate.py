"""From a descriptor's bytes to the full text of every generated file, headers included."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cdgen import __version__
from cdgen.errors import DescriptorError, UsageError, Violation
from cdgen.header import State, body_digest, digest, make_header, split_generated
from cdgen.pins import find_pins, keep_newer_pins, table_record
from cdgen.resources import fingerprint
from cdgen.stamp import Stamp, build_stamp, release_numbers
from cdgen.workspace import display_path

if TYPE_CHECKING:
    from cdgen.model import Action

MAX_DESCRIPTOR_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Target:
    """One generation: the descriptor and the directory the files are written under."""

    config: Path
    root: Path

    @property
    def source(self) -> str:
        """How the headers name the descriptor: relative to the root when inside it.

        The descriptor's own name is kept, not resolved: `/dev/stdin` stays `stdin` rather
        than a pipe's name that changes every run.
        """
        config = self.config.parent.resolve() / self.config.name
        root = self.root.resolve()
        shown = config.relative_to(root).as_posix() if config.is_relative_to(root) else config.name
        if any(ord(c) < 0x20 or c == "\x7f" for c in shown):
            raise UsageError(f"{shown!r}: a descriptor path with control characters")
        return shown


def inputs_digest(source: str, descriptor: bytes, rel: str, stamp: Stamp | None = None) -> str:
    """What one generated file came from: cdgen's build (version, the commit it was built
    from, templates and schema), the descriptor, the file's path.

    The only place this is computed. Line endings are normalized, so a Windows checkout
    (CRLF) and a Linux one agree.
    """
    normalized = descriptor.replace(b"\r\n", b"\n")
    built = (stamp or build_stamp()).describe()
    return digest(__version__, built, fingerprint(), source, normalized, rel)


def read_config(path: Path) -> bytes:
    """The descriptor's bytes, read once: `/dev/stdin` and FIFOs cannot be read twice."""
    shown = display_path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_DESCRIPTOR_BYTES + 1)
    except FileNotFoundError:
        message = "file not found (run `cdgen init` to create one)"
        raise DescriptorError([Violation(shown, 1, 1, message)]) from None
    except OSError as exc:
        raise DescriptorError([Violation(shown, 1, 1, f"cannot read: {exc.strerror}")]) from None
    if len(data) > MAX_DESCRIPTOR_BYTES:
        message = f"larger than {MAX_DESCRIPTOR_BYTES} bytes; not a descriptor"
        raise DescriptorError([Violation(shown, 1, 1, message)])
    return data


def is_up_to_date(target: Target, descriptor: bytes, generated: Mapping[str, str]) -> bool:
    """True when every generated file carries the current inputs and an intact body.

    Needs no parsing or rendering: the headers record what the files came from.
    """
    if not generated:
        return False
    source = target.source
    for rel, text in generated.items():
        parsed = split_generated(text)
        if parsed is None or parsed.state.legacy or parsed.state.files != len(generated):
            return False
        if parsed.state.inputs != inputs_digest(source, descriptor, rel):
            return False
        if not parsed.intact(rel):
            return False
    return True


@dataclass(frozen=True)
class Rendered:
    files: dict[str, str]
    notes: tuple[str, ...]
    unmanaged: frozenset[str] = frozenset()


def render_target(
    target: Target,
    descriptor: bytes | None = None,
    existing: Mapping[str, str] | None = None,
) -> Rendered:
    """Validate the descriptor and render every file, headers included.

    `descriptor` is the config's bytes (read from target.config when None); `existing` holds
    the generated files on disk, whose newer third-party pins may be kept. Raises
    DescriptorError (every violation) before anything is rendered.
    """
    from cdgen.descriptor import parse_descriptor
    from cdgen.limits import check_file_sizes, find_job_time_violations, find_services_violations
    from cdgen.model import Pipeline, build_model
    from cdgen.render import render_pipeline
    from cdgen.validate import validate_document

    if descriptor is None:
        descriptor = read_config(target.config)
    doc = parse_descriptor(descriptor, display_path(target.config))
    validate_document(doc)
    stamp = build_stamp()
    pipeline = build_model(doc.data, stamp)
    over = list(find_job_time_violations(doc, pipeline))
    if isinstance(pipeline, Pipeline):
        over += find_services_violations(doc, pipeline)
    if over:
        raise DescriptorError(over)
    source = target.source
    bodies = render_pipeline(pipeline, source)
    check_file_sizes(doc, bodies)
    files: dict[str, str] = {}
    for rel, fresh in bodies.items():
        body = keep_bot_pins(rel, fresh, (existing or {}).get(rel))
        state = State(
            inputs_digest(source, descriptor, rel, stamp),
            len(bodies),
            body_digest(rel, body),
            table_record(body),
        )
        files[rel] = make_header(__version__, source, state) + body
    return Rendered(files, pin_notes(doc.path, pipeline.action, stamp), pipeline.unmanaged)


def pin_notes(shown: str, action: Action, stamp: Stamp) -> tuple[str, ...]:
    """Warnings about how cdgen's own code is pinned: the drift check runs this cdgen's
    commit, and the deploy jobs its action unless the descriptor pins one."""
    older = _older_action(shown, action)
    return older + _stamp_notes(shown, action, stamp)


def _older_action(shown: str, action: Action) -> tuple[str, ...]:
    """The workflows use this cdgen's action inputs and modes: an older pinned release of
    the action may not take them (its steps would fail on GitHub, not here)."""
    pinned, own = release_numbers(action.version or ""), release_numbers(__version__)
    if pinned is None or own is None or pinned >= own:
        return ()
    return (
        f"{shown}: action.version {action.version} is older than this cdgen ({__version__}): "
        "its action may not take every input and mode the generated workflows use; pin the "
        "release of the cdgen you run (or drop action.ref and action.version to use it)",
    )


def _stamp_notes(shown: str, action: Action, stamp: Stamp) -> tuple[str, ...]:
    own_action = action.ref == stamp.commit
    if stamp.commit is None:
        what = "the drift check cannot reproduce these files (it will fail and say so)"
        if not action.pinned:
            what += f", and the deploy jobs use {action.uses}, a movable tag"
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


def keep_bot_pins(rel: str, fresh: str, existing: str | None) -> str:
    """`fresh` with the newer third-party pins of the file on disk, while they may be kept.

    A newer pin (a bot's bump) is kept only while cdgen's table has not moved any pin of
    that file since it was written: then cdgen's pins win again, so a pin written by hand
    with a made-up tag cannot outlive cdgen's next pin update.
    """
    parsed = split_generated(existing) if existing is not None else None
    if parsed is None or parsed.state.legacy or not parsed.intact(rel):
        return fresh
    if parsed.state.pins != table_record(parsed.body):
        return fresh
    return keep_newer_pins(fresh, find_pins(parsed.body))
