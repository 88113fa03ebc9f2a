"""Reading cdgen.yml with the position of every key and value."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdgen.errors import DescriptorError, Violation
from cdgen.yaml_input import LIMITS, load_yaml

PathItem = str | int
# How a rule reports a message at a position: `at(["image", "test"], "...")`.
At = Callable[[list[PathItem], str], Violation]


@dataclass(frozen=True)
class Document:
    """A parsed descriptor: the data (ruamel round-trip nodes) and where it came from."""

    path: str
    text: bytes
    data: Any

    def position(self, where: Sequence[PathItem], *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at `where`, or of its key when `key`."""
        return locate(self.data, where, key=key)

    def violation(
        self,
        where: Sequence[PathItem],
        message: str,
        *,
        key: bool = False,
        label: bool = True,
    ) -> Violation:
        """`message` at `where` (at its key when `key`), after its dotted path when `label`."""
        line, col = self.position(where, key=key)
        path = dotted(where) if label else ""
        return Violation(self.path, line, col, f"{path}: {message}" if path else message)


def dotted(where: Sequence[PathItem]) -> str:
    """`services[0].image.context` for ["services", 0, "image", "context"]."""
    text = ""
    for step in where:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def read_descriptor(path: Path, display: str | None = None) -> Document:
    """Read and parse a descriptor file; syntax problems raise DescriptorError."""
    shown = display or str(path)
    try:
        with path.open("rb") as file:
            # One byte past the limit is enough to refuse it: /dev/zero must not fill memory.
            text = file.read(LIMITS.max_bytes + 1)
    except FileNotFoundError:
        raise DescriptorError(
            [Violation(shown, 1, 1, "file not found (run `cdgen init` to create one)")]
        ) from None
    except OSError as exc:
        raise DescriptorError([Violation(shown, 1, 1, f"cannot read: {exc.strerror}")]) from None
    return parse_descriptor(text, shown)


def parse_descriptor(text: bytes, display: str) -> Document:
    """Parse descriptor bytes: characters, tags, nesting and aliases are checked first."""
    data = load_yaml(text, display)
    if data is None:
        raise DescriptorError([Violation(display, 1, 1, "the descriptor is empty")])
    return Document(display, text, data)


def locate(node: Any, where: Sequence[PathItem], *, key: bool = False) -> tuple[int, int]:
    """Walk ruamel nodes to the deepest position known for `where`."""
    line, col = _own_position(node)
    for index, step in enumerate(where):
        last = index == len(where) - 1
        found = _child_position(node, step, key=key and last)
        if found is None:
            break
        line, col = found
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
    return line + 1, col + 1


def _own_position(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return 0, 0
    return int(lc.line), int(lc.col)


def _child_position(node: Any, step: PathItem, *, key: bool) -> tuple[int, int] | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        getter = lc.item if isinstance(step, int) else lc.key if key else lc.value
        pos = getter(step)
    except (KeyError, IndexError, TypeError):
        return None
    return int(pos[0]), int(pos[1])
