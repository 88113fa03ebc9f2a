"""Text from outside (kubectl, the network, the descriptor) made safe in the job summary."""

from __future__ import annotations

import re

from cdgen.deploy.console import printable

# Markdown that could turn text from the network into a link, an image or code.
_MARKUP = re.compile(r"([\\`*_\[\]|])")


def cell(text: str) -> str:
    """Make text safe inside a Markdown table cell: one line, no markup, no HTML."""
    cleaned = printable(" ".join(text.split()))
    cleaned = cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKUP.sub(r"\\\1", cleaned) or "—"


def code(text: str) -> str:
    return f"`{text.replace('`', '')}`" if text else "—"
