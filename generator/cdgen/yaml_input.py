"""Reading YAML nobody has vetted: characters, tags, nesting and aliases are checked first.

ruamel composes an alias as a node shared with its anchor, so a 400-byte file can stand for
a billion values; the blow-up comes later, when validation walks (and prints) them all. A
`[[[[…` thousands deep exhausts Python's recursion instead. So before ruamel builds
anything, `load_yaml` streams the parser's events once and measures: how deep the data
nests and how many nodes the aliases add, counting each alias as the whole node it repeats.
Every refusal is a Violation at the offending character, never a crash, hang or exit 3.

`load_yaml` (one document) and `load_yaml_documents` (a stream, such as Kubernetes manifests)
are the entry points: anything cdgen reads as YAML can go through them, `cdgen init` too.
Problems raise DescriptorError, whose violations name the file given as `display`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cdgen.errors import DescriptorError, Violation


@dataclass(frozen=True)
class Limits:
    """What one file may cost. Real descriptors nest 5 levels and repeat a few dozen nodes."""

    max_bytes: int = 1 << 20
    max_depth: int = 64
    max_alias_nodes: int = 10_000  # nodes that aliases add, each alias counted in full
    max_digits: int = 1_000  # Python refuses to convert integers above 4300 digits


LIMITS = Limits()

# Noncharacters: U+FDD0..U+FDEF and the last two code points of every plane.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    chr(plane + 0xFFFE) + chr(plane + 0xFFFF) for plane in range(0, 0x110000, 0x10000)
)
# C0 controls but tab and line breaks, DEL, C1, surrogates (an undecodable byte, when
# decoding with surrogateescape) and noncharacters. A value may hold a tab or a newline.
_FORBIDDEN_IN_SOURCE = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]"
)
# A run of bytes that are not UTF-8, as decoding with surrogateescape leaves them.
_NOT_UTF8_OR_FORBIDDEN = re.compile(f"[\udc80-\udcff]+|{_FORBIDDEN_IN_SOURCE.pattern}")
_FORBIDDEN_IN_VALUE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]")
# Line breaks as ruamel counts them, so our positions and its marks agree.
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
# The escapes of a double-quoted scalar (YAML 1.2, 5.7), each matched whole.
_ESCAPE = re.compile(r"\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_SINGLE_ESCAPES = {"0": "\x00", "a": "\x07", "b": "\x08", "v": "\x0b", "f": "\x0c"}
_SINGLE_ESCAPES |= {"r": "\r", "e": "\x1b", "N": "\x85"}
_INTEGER = re.compile(r"[-+]?[0-9_]+")
# The one explicit tag accepted: `!!str` makes a value text (`!!str 22`). Every other tag
# names a type cdgen does not read (`!!binary`, `!!timestamp`, `!custom`) or repeats what a
# plain value already is.
_STR_TAG = "tag:yaml.org,2002:str"


def describe_character(char: str) -> str:
    """`control character U+007F`, `noncharacter U+FFFE`, `lone surrogate U+D800`."""
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        kind = "lone surrogate"
    elif code < 0x20 or 0x7F <= code <= 0x9F:
        kind = "control character"
    else:
        kind = "noncharacter"
    return f"{kind} U+{code:04X}"


def load_yaml(data: bytes, display: str, *, limits: Limits = LIMITS) -> Any:
    """Parse one YAML document after every check above; problems raise DescriptorError."""
    text = decode_source(data, display, limits)
    check_structure(text, display, limits)
    from ruamel.yaml.error import YAMLError

    try:
        return _round_trip_loader().load(text)
    except YAMLError as exc:
        raise DescriptorError([syntax_violation(exc, display)]) from None


def load_yaml_documents(data: bytes, display: str, *, limits: Limits = LIMITS) -> list[Any]:
    """Every document of a YAML stream (Kubernetes manifests), after the same checks; the
    alias bound counts the whole stream."""
    text = decode_source(data, display, limits)
    check_structure(text, display, limits)
    from ruamel.yaml.error import YAMLError

    try:
        return list(_round_trip_loader().load_all(text))
    except YAMLError as exc:
        raise DescriptorError([syntax_violation(exc, display)]) from None


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
    lines = _Lines(text)
    problems = []
    for found in (_FORBIDDEN_IN_SOURCE if utf16 else _NOT_UTF8_OR_FORBIDDEN).finditer(text):
        chars = found.group()
        line, column = lines.position(found.start())
        if not utf16 and 0xDC80 <= ord(chars[0]) <= 0xDCFF:
            shown = " ".join(f"0x{ord(char) - 0xDC00:02X}" for char in chars)
            message = f"{'bytes' if len(chars) > 1 else 'byte'} {shown}: not UTF-8"
        else:
            message = f"{describe_character(chars)} is not allowed"
        problems.append(Violation(display, line, column, message))
    if problems:
        raise DescriptorError(problems)
    return text


def check_structure(text: str, display: str, limits: Limits = LIMITS) -> None:
    """Stream the parser's events once; raise DescriptorError for what must not be built."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    walk = _Walk(text, display, limits)
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


class _Lines:
    """1-based (line, column) of a character index, as ruamel's marks count them."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]

    def position(self, index: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, index) - 1
        return line + 1, index - self.starts[line] + 1


@dataclass
class _Node:
    """A collection being read: its expanded size so far, its tallest child and, for a
    mapping, how many keys and values it holds (which tells a key from a value)."""

    anchor: str | None
    kind: str  # "a list" or "a mapping"
    size: int = 1
    height: int = 0
    children: int = 0


@dataclass(frozen=True)
class _Anchored:
    size: int
    height: int
    kind: str  # "a value", "a list" or "a mapping"


@dataclass
class _Walk:
    text: str
    display: str
    limits: Limits
    problems: list[Violation] = field(default_factory=list)
    stack: list[_Node] = field(default_factory=list)
    anchors: dict[str, _Anchored | None] = field(default_factory=dict)  # None: still open
    alias_nodes: int = 0

    def __post_init__(self) -> None:
        self.lines = _Lines(self.text)

    def step(self, event: Any) -> bool:
        """Account for one event; False once a bound is exceeded (the walk stops there)."""
        from ruamel.yaml.events import (
            AliasEvent,
            CollectionEndEvent,
            DocumentStartEvent,
            MappingStartEvent,
            ScalarEvent,
            SequenceStartEvent,
        )

        if isinstance(event, DocumentStartEvent):
            self.anchors.clear()  # anchors are scoped to their document
        elif isinstance(event, ScalarEvent):
            self._check_child(event, "a value")
            self._check_scalar(event)
            self._close(event.anchor, _Anchored(1, 0, "a value"))
        elif isinstance(event, SequenceStartEvent | MappingStartEvent):
            kind = "a list" if isinstance(event, SequenceStartEvent) else "a mapping"
            return self._open(event, kind)
        elif isinstance(event, CollectionEndEvent):
            node = self.stack.pop()
            self._close(node.anchor, _Anchored(node.size, node.height + 1, node.kind))
        elif isinstance(event, AliasEvent):
            return self._alias(event)
        return True

    def _open(self, event: Any, kind: str) -> bool:
        self._check_child(event, kind)
        if len(self.stack) + 1 > self.limits.max_depth:
            message = f"the data nests deeper than {self.limits.max_depth} levels"
            return self._refuse(event, message)
        if event.anchor is not None:
            self.anchors[event.anchor] = None  # open: an alias to it now would be recursive
        self.stack.append(_Node(event.anchor, kind))
        return True

    def _close(self, anchor: str | None, node: _Anchored) -> None:
        if anchor is not None:
            self.anchors[anchor] = node
        if self.stack:
            parent = self.stack[-1]
            parent.size += node.size
            parent.height = max(parent.height, node.height)

    def _alias(self, event: Any) -> bool:
        name = event.anchor
        if name not in self.anchors:
            return True  # ruamel reports the undefined alias, at its position
        known = self.anchors[name]
        if known is None:
            return self._refuse(event, f"alias *{name} refers to a node that contains it")
        self._check_child(event, known.kind, tagged=False)
        self.alias_nodes += known.size
        if self.alias_nodes > self.limits.max_alias_nodes:
            message = (
                f"aliases repeat more than {self.limits.max_alias_nodes} nodes by here, the "
                "most cdgen expands; write the repeated values out"
            )
            return self._refuse(event, message)
        if len(self.stack) + known.height > self.limits.max_depth:
            message = f"alias *{name} nests the data deeper than {self.limits.max_depth} levels"
            return self._refuse(event, message)
        self._close(None, known)
        return True

    def _check_child(self, event: Any, kind: str, *, tagged: bool = True) -> None:
        """A node's tag, and its place: a mapping's key must be a single value (ruamel
        cannot even hash some list keys, and no key of cdgen's is one)."""
        if tagged:
            self._check_tag(event, kind)
        parent = self.stack[-1] if self.stack else None
        if parent is None:
            return
        is_key = parent.kind == "a mapping" and parent.children % 2 == 0
        parent.children += 1
        if is_key and kind != "a value":
            self._add(event.start_mark.index, f"a key must be a single value, not {kind}")

    def _check_tag(self, event: Any, kind: str) -> None:
        tag = event.tag
        if tag is None or (tag == _STR_TAG and kind == "a value"):
            return
        shown = _shown_tag(event.ctag)
        if tag == _STR_TAG:
            message = f"tag {shown} applies to a single value, not {kind}"
        else:
            message = f"tag {shown} is not supported (only !!str, which makes a value text)"
        self._add(event.start_mark.index, message)

    def _check_scalar(self, event: Any) -> None:
        value: str = event.value
        start = event.start_mark.index
        long_plain = len(value) > self.limits.max_digits and event.style is None
        if long_plain and _INTEGER.fullmatch(value):
            self._add(start, f"a number of more than {self.limits.max_digits} digits")
        forbidden = _FORBIDDEN_IN_VALUE.search(value)
        if forbidden is None:
            return
        found = list(_forbidden_escapes(self.text, start, event.end_mark.index))
        for index, escape, char in found:
            message = f"{escape} stands for {describe_character(char)}, which is not allowed"
            self._add(index, message)
        if not found:  # not from an escape (source characters were checked before)
            self._add(start, f"{describe_character(forbidden.group())} is not allowed")

    def _refuse(self, event: Any, message: str) -> bool:
        self._add(event.start_mark.index, message)
        return False

    def _add(self, index: int, message: str) -> None:
        line, column = self.lines.position(index)
        self.problems.append(Violation(self.display, line, column, message))


def _forbidden_escapes(text: str, start: int, end: int) -> Iterator[tuple[int, str, str]]:
    """(index, escape, character) of each escape between `start` and `end` that stands for a
    character no value may hold. Matching escapes left to right keeps `\\\\x7f` whole."""
    for found in _ESCAPE.finditer(text, start, end):
        escape = found.group()
        hex_digits = escape[2:] if escape[1] in "xuU" else ""
        char = chr(int(hex_digits, 16)) if hex_digits else _SINGLE_ESCAPES.get(escape[1], "")
        if char and _FORBIDDEN_IN_VALUE.fullmatch(char):
            yield found.start(), escape, char


def _shown_tag(tag: Any) -> str:
    """A tag as written: `!!str`, `!local`, or `!<verbatim>`."""
    handle, suffix = getattr(tag, "handle", None), getattr(tag, "suffix", None)
    if handle and suffix is not None:
        return f"{handle}{suffix}"
    return f"!<{tag}>" if str(tag) != "!" else "!"


def _round_trip_loader() -> Any:
    """ruamel's round-trip loader, reading `!!str` values as plain text: its own constructor
    keeps them as TaggedScalar objects, which validation would call 'not a string'."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.Constructor = _plain_str_constructor()
    # A redefined anchor is valid YAML (an alias names the latest); the walk counted it so.
    yaml.composer.warn_double_anchors = False
    return yaml


@cache
def _plain_str_constructor() -> Any:
    from ruamel.yaml.constructor import RoundTripConstructor

    class PlainStrConstructor(RoundTripConstructor):
        def construct_plain_str(self, node: Any) -> Any:
            return self.construct_scalar(node)

    # On the subclass: ruamel copies the table, so the shared round-trip loader is untouched.
    PlainStrConstructor.add_constructor(_STR_TAG, PlainStrConstructor.construct_plain_str)
    return PlainStrConstructor
