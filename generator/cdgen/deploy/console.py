"""Log output: GitHub workflow commands on a runner, plain text on a laptop.

Everything printed passes through a redactor that hides the kubeconfig's secrets (each also
registered with ``::add-mask::`` on a runner). Text from outside is never printed raw:
kubectl's answers are fenced with ``::stop-commands::`` so they cannot issue workflow
commands, and control characters anywhere (a smoke answer's ``\\r::error …``) are shown
escaped, so no line can start a command or rewrite the terminal.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO

# Shorter values would mask ordinary words all over the log; GitHub still masks them.
MIN_SECRET_LENGTH = 3
# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what a reader sees.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROLS_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _escape_control(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, keep_lines: bool = False) -> str:
    """``text`` with control characters written as escapes (``\\r`` → ``\\x0d``)."""
    pattern = _CONTROLS_BUT_LINES if keep_lines else _CONTROLS
    return pattern.sub(_escape_control, text)


class Console:
    def __init__(self, stream: TextIO, *, github: bool) -> None:
        self._stream = stream
        self._github = github
        self._secrets: list[str] = []

    def add_secrets(self, values: Iterable[str]) -> None:
        """Hide these values from now on, here and (``::add-mask::``) in GitHub's log."""
        fresh = sorted({v for v in values if v and v not in self._secrets}, key=len, reverse=True)
        for value in fresh:
            if self._github:
                for part in {value, *value.splitlines()}:
                    if part.strip():
                        self._write(f"::add-mask::{escape_data(part)}")
        self._secrets = sorted(
            {*self._secrets, *(v for v in fresh if len(v) >= MIN_SECRET_LENGTH)},
            key=len,
            reverse=True,
        )

    def redact(self, text: str) -> str:
        for value in self._secrets:
            text = text.replace(value, "***")
        return text

    def _write(self, line: str) -> None:
        # A log that cannot be written (a closed pipe) must not stop a rollback halfway.
        try:
            self._stream.write(line.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def info(self, text: str) -> None:
        self._write(printable(self.redact(text)))

    def _annotate(self, kind: str, text: str, title: str) -> None:
        text = self.redact(text)
        if self._github:
            message = printable(escape_data(text))
            self._write(f"::{kind} title={printable(escape_property(title))}::{message}")
        else:
            self._write(printable(f"{kind}: {title}: {text}"))

    def error(self, text: str, title: str = "Deploy failed") -> None:
        self._annotate("error", text, title)

    def warning(self, text: str, title: str) -> None:
        self._annotate("warning", text, title)

    def notice(self, text: str, title: str) -> None:
        self._annotate("notice", text, title)

    def external(self, text: str) -> None:
        """Print text that came from another program, unable to issue workflow commands."""
        text = printable(self.redact(text), keep_lines=True).rstrip()
        if not text:
            return
        if not self._github:
            self._write(text)
            return
        token = secrets.token_hex(16)
        self._write(f"::stop-commands::{token}")
        self._write(text)
        self._write(f"::{token}::")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        title = printable(self.redact(title))
        self._write(f"::group::{escape_data(title)}" if self._github else f"== {title}")
        try:
            yield
        finally:
            if self._github:
                self._write("::endgroup::")
