"""The checks on a YAML event stream: characters, tags, keys, nesting and alias expansion.

One pass over the parser's events, as ruamel's composer takes them and before anything is
constructed. Each collection's size is counted as if every alias inside it were written
out, and its height likewise, so a 400-byte alias bomb or a `[[[[…` thousands deep is
measured, and refused, in the time it takes to read it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from cdgen.errors import Violation


class Limits(NamedTuple):
    """What one file may cost. Real descriptors nest 5 levels and repeat a few dozen nodes."""

    max_bytes: int = 1 << 20
    max_depth: int = 64
    max_alias_nodes: int = 10_000  # nodes that aliases add, each alias counted in full
    max_digits: int = 1_000  # Python refuses to convert integers above 4300 digits


# Noncharacters: U+FDD0..U+FDEF and the last two code points of every plane.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    chr(plane + 0xFFFE) + chr(plane + 0xFFFF) for plane in range(0, 0x110000, 0x10000)
)
# C0 controls but tab and line breaks, DEL, C1, surrogates (an undecodable byte, when
# decoding with surrogateescape) and noncharacters. A value may hold a tab or a newline.
FORBIDDEN_IN_SOURCE = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]"
)
# A run of bytes that are not UTF-8, as decoding with surrogateescape leaves them.
NOT_UTF8_OR_FORBIDDEN = re.compile(f"[\udc80-\udcff]+|{FORBIDDEN_IN_SOURCE.pattern}")
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
STR_TAG = "tag:yaml.org,2002:str"


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


class Lines:
    """1-based (line, column) of a character index, as ruamel's marks count them."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]

    def position(self, index: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, index) - 1
        return line + 1, index - self.starts[line] + 1


class _Node:
    """A collection being read: its expanded size so far, its tallest child and, for a
    mapping, how many keys and values it holds (which tells a key from a value)."""

    __slots__ = ("anchor", "children", "height", "kind", "size")

    def __init__(self, anchor: str | None, kind: str) -> None:
        self.anchor = anchor
        self.kind = kind  # "a list" or "a mapping"
        self.size = 1
        self.height = 0
        self.children = 0


class _Anchored(NamedTuple):
    size: int
    height: int
    kind: str  # "a value", "a list" or "a mapping"


class EventWalk:
    """The state of one read: the open collections, the anchors seen, the problems found."""

    def __init__(self, text: str, display: str, limits: Limits) -> None:
        from ruamel.yaml import events  # deferred: cdgen's startup never pays for ruamel

        self.text, self.display, self.limits = text, display, limits
        self.lines = Lines(text)
        self.events = events
        self.problems: list[Violation] = []
        self.stack: list[_Node] = []
        self.anchors: dict[str, _Anchored | None] = {}  # None: still open
        self.alias_nodes = 0

    def step(self, event: Any) -> bool:
        """Account for one event; False once a bound is exceeded (the walk stops there)."""
        kinds = self.events
        if isinstance(event, kinds.DocumentStartEvent):
            self.anchors.clear()  # anchors are scoped to their document
        elif isinstance(event, kinds.ScalarEvent):
            self._check_child(event, "a value")
            self._check_scalar(event)
            self._close(event.anchor, _Anchored(1, 0, "a value"))
        elif isinstance(event, kinds.SequenceStartEvent):
            return self._open(event, "a list")
        elif isinstance(event, kinds.MappingStartEvent):
            return self._open(event, "a mapping")
        elif isinstance(event, kinds.CollectionEndEvent):
            node = self.stack.pop()
            self._close(node.anchor, _Anchored(node.size, node.height + 1, node.kind))
        elif isinstance(event, kinds.AliasEvent):
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
        if name not in self.anchors:  # the parser lets it through; the composer would not
            return self._refuse(event, f"alias *{name} names no anchor before it")
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
        if tag is None or (tag == STR_TAG and kind == "a value"):
            return
        shown = _shown_tag(event.ctag)
        if tag == STR_TAG:
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
