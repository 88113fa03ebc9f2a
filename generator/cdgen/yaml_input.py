"""Reading YAML nobody has vetted: characters, tags, nesting and aliases are checked first.

ruamel composes an alias as a node shared with its anchor, so a 400-byte file can stand for
a billion values; the blow-up comes later, when validation walks (and prints) them all. A
`[[[[…` thousands deep exhausts Python's recursion instead. So the bytes are checked before
parsing, and a walk (yaml_walk.py) rides on the events ruamel's composer takes: it measures
how deep the data nests and how many nodes the aliases add, counting each alias as the whole
node it repeats, and stops the read at the first bound exceeded. Nothing is constructed from
a document with a problem. Every refusal is a Violation at the offending character, never a
crash, hang or exit 3.

`load_yaml` (one document) and `load_yaml_documents` (a stream, such as Kubernetes manifests)
are the entry points: anything cdgen reads as YAML can go through them, `cdgen init` too.
Problems raise DescriptorError, whose violations name the file given as `display`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cdgen.errors import DescriptorError, Violation
from cdgen.yaml_walk import (
    FORBIDDEN_IN_SOURCE,
    NOT_UTF8_OR_FORBIDDEN,
    STR_TAG,
    EventWalk,
    Limits,
    Lines,
    describe_character,
)

__all__ = [
    "LIMITS",
    "Limits",
    "check_structure",
    "decode_source",
    "load_yaml",
    "load_yaml_documents",
    "syntax_violation",
]

LIMITS = Limits()
_MAX_REPORTED = 100  # characters reported one by one; the rest in one line
_KINDS = {"timestamp": "a date", "int": "an integer", "float": "a number"}


def load_yaml(data: bytes, display: str, *, limits: Limits = LIMITS) -> Any:
    """Parse one YAML document after every check above; problems raise DescriptorError."""
    return _load(data, display, limits, stream=False)


def load_yaml_documents(data: bytes, display: str, *, limits: Limits = LIMITS) -> list[Any]:
    """Every document of a YAML stream (Kubernetes manifests), after the same checks; the
    alias bound counts the whole stream."""
    loaded: list[Any] = _load(data, display, limits, stream=True)
    return loaded


def _load(data: bytes, display: str, limits: Limits, *, stream: bool) -> Any:
    """Read in one pass: the walk sees each event as ruamel's composer takes it, stops the
    composer at the first bound exceeded, and stops it before constructing a document with
    any problem (so `!!int abc` or a 5000-digit number never reaches Python's int())."""
    from ruamel.yaml.error import YAMLError

    text = decode_source(data, display, limits)
    walk = EventWalk(text, display, limits)
    yaml = _loader(walk)
    try:
        return list(yaml.load_all(text)) if stream else yaml.load(text)
    except _Refused:
        raise DescriptorError(walk.problems) from None
    except _Unreadable as exc:
        line, column = walk.lines.position(exc.index)
        raise DescriptorError([Violation(display, line, column, str(exc))]) from None
    except YAMLError as exc:
        raise DescriptorError([*walk.problems, syntax_violation(exc, display)]) from None


def decode_source(data: bytes, display: str, limits: Limits = LIMITS) -> str:
    """The text of `data` (UTF-8, or UTF-16 with a byte order mark, as ruamel reads it)."""
    if len(data) > limits.max_bytes:
        message = f"the file is larger than {limits.max_bytes} bytes; cdgen reads at most that"
        raise DescriptorError([Violation(display, 1, 1, message)])
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    try:
        # surrogateescape turns each byte that is not UTF-8 into U+DC80..U+DCFF, found below.
        text = (
            data.decode("utf-16", "surrogatepass")
            if utf16
            else data.decode("utf-8-sig", "surrogateescape")
        )
    except UnicodeDecodeError as exc:  # only UTF-16 can fail here: an odd number of bytes
        raise DescriptorError([Violation(display, 1, 1, f"not UTF-16: {exc.reason}")]) from None
    problems = _character_problems(text, display, utf16=utf16)
    if len(problems) > _MAX_REPORTED:  # a binary or mis-encoded file: the first ones suffice
        first = problems[_MAX_REPORTED]
        rest = Violation(first.path, first.line, first.column, "and more like these")
        problems = [*problems[:_MAX_REPORTED], rest]
    if problems:
        raise DescriptorError(problems)
    return text


def _character_problems(text: str, display: str, *, utf16: bool) -> list[Violation]:
    lines = Lines(text)
    problems = []
    for found in (FORBIDDEN_IN_SOURCE if utf16 else NOT_UTF8_OR_FORBIDDEN).finditer(text):
        chars = found.group()
        line, column = lines.position(found.start())
        if not utf16 and 0xDC80 <= ord(chars[0]) <= 0xDCFF:
            shown = " ".join(f"0x{ord(char) - 0xDC00:02X}" for char in chars[:8])
            more = " ..." if len(chars) > 8 else ""
            message = f"{'bytes' if len(chars) > 1 else 'byte'} {shown}{more}: not UTF-8"
        else:
            message = f"{describe_character(chars)} is not allowed"
        problems.append(Violation(display, line, column, message))
    return problems


def check_structure(text: str, display: str, limits: Limits = LIMITS) -> None:
    """Stream the parser's events once; raise DescriptorError for what must not be built."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    walk = EventWalk(text, display, limits)
    try:
        for event in YAML(typ="rt").parse(text):
            if not walk.step(event):
                break
    except YAMLError as exc:
        walk.problems.append(syntax_violation(exc, display))
    if walk.problems:
        raise DescriptorError(walk.problems)


def syntax_violation(exc: Exception, display: str) -> Violation:
    """A ruamel error as `YAML syntax: problem`, at its mark when it has one."""
    from ruamel.yaml.error import MarkedYAMLError

    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        return Violation(display, line, column, f"YAML syntax: {problem}")
    return Violation(display, 1, 1, f"YAML syntax: {exc}")


class _Refused(Exception):
    """Stops ruamel mid-read; the walk holds the problems."""


class _Unreadable(Exception):
    """A value ruamel resolved to a type it then fails to build (`2024-13-45` as a date)."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def _loader(walk: EventWalk) -> Any:
    """ruamel's round-trip loader with the walk on its event stream, reading `!!str` values
    as plain text (its own constructor keeps TaggedScalar objects, which validation would
    call 'not a string')."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.Parser, yaml.Constructor = _ruamel_subclasses()
    yaml.parser.walk = walk
    # A redefined anchor is valid YAML (an alias names the latest); the walk counted it so.
    yaml.composer.warn_double_anchors = False
    return yaml


@cache
def _ruamel_subclasses() -> tuple[type, type]:
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.events import DocumentEndEvent, StreamEndEvent
    from ruamel.yaml.parser import RoundTripParser

    class CheckedParser(RoundTripParser):
        walk: EventWalk

        def get_event(self) -> Any:  # the composer takes every event through here
            event = super().get_event()
            if not self.walk.step(event):
                raise _Refused
            if self.walk.problems and isinstance(event, DocumentEndEvent | StreamEndEvent):
                raise _Refused
            return event

    class CheckedConstructor(RoundTripConstructor):
        def construct_plain_str(self, node: Any) -> Any:
            return self.construct_scalar(node)

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep=deep)
            except (ValueError, IndexError, OverflowError) as exc:
                tag = str(node.tag).rsplit(":", 1)[-1]
                kind = _KINDS.get(tag, f"a {tag}")
                message = (
                    f"{node.value!r} reads as {kind} but is not one ({exc}); quote it if it is text"
                )
                raise _Unreadable(message, node.start_mark.index) from None

    # On the subclass: ruamel copies the table, so the shared round-trip loader is untouched.
    CheckedConstructor.add_constructor(STR_TAG, CheckedConstructor.construct_plain_str)
    return CheckedParser, CheckedConstructor
