"""Log output: GitHub workflow commands on a runner, plain text on a laptop.

Everything printed passes through a redactor that hides the kubeconfig's content, and text
from outside (kubectl's answers) is fenced with ``::stop-commands::`` so it cannot issue
workflow commands of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

MIN_SECRET_LENGTH = 6


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def secret_fragments(content: str) -> list[str]:
    """The pieces of a kubeconfig worth hiding: each line, and each value after ``key:``."""
    fragments: set[str] = set()
    for line in content.splitlines():
        stripped = line.strip().lstrip("- ").strip()
        fragments.add(stripped)
        _, _, value = stripped.partition(":")
        fragments.add(value.strip().strip("\"'"))
    return sorted((f for f in fragments if len(f) >= MIN_SECRET_LENGTH), key=len, reverse=True)


class Console:
    def __init__(self, stream: TextIO, *, github: bool, secrets_text: str = "") -> None:
        self._stream = stream
        self._github = github
        self._fragments = secret_fragments(secrets_text) if secrets_text else []

    def redact(self, text: str) -> str:
        for fragment in self._fragments:
            text = text.replace(fragment, "***")
        return text

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()

    def info(self, text: str) -> None:
        self._write(self.redact(text))

    def _annotate(self, kind: str, text: str, title: str) -> None:
        text = self.redact(text)
        if self._github:
            self._write(f"::{kind} title={escape_property(title)}::{escape_data(text)}")
        else:
            self._write(f"{kind}: {title}: {text}")

    def error(self, text: str, title: str = "Deploy failed") -> None:
        self._annotate("error", text, title)

    def warning(self, text: str, title: str) -> None:
        self._annotate("warning", text, title)

    def notice(self, text: str, title: str) -> None:
        self._annotate("notice", text, title)

    def external(self, text: str) -> None:
        """Print text that came from another program, unable to issue workflow commands."""
        text = self.redact(text).rstrip()
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
        self._write(f"::group::{escape_data(title)}" if self._github else f"== {title}")
        try:
            yield
        finally:
            if self._github:
                self._write("::endgroup::")
