"""Durations written the way kubectl and GitHub users write them: ``90s``, ``5m``, ``1h30m``."""

from __future__ import annotations

import re

_DURATION = re.compile(r"(?:(?P<h>[0-9]{1,4})h)?(?:(?P<m>[0-9]{1,6})m)?(?:(?P<s>[0-9]{1,7})s)?")


def parse_duration(text: str) -> int | None:
    """Return the number of seconds ``text`` stands for, or None when it is not a duration."""
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        return None
    hours, minutes, seconds = (int(match.group(unit) or 0) for unit in ("h", "m", "s"))
    return hours * 3600 + minutes * 60 + seconds


def check_duration(name: str, text: str, low: int, high: int, problems: list[str]) -> int:
    """The seconds the input ``name`` stands for; 0, and a problem appended, when ``text`` is
    not a duration from ``low`` to ``high`` seconds."""
    seconds = parse_duration(text)
    if seconds is None or not low <= seconds <= high:
        problems.append(
            f"{name}: {text[:40]!r} is not a duration from {low}s to {high}s (e.g. 90s, 5m, 1h30m)"
        )
        return 0
    return seconds


def format_seconds(seconds: float) -> str:
    """Render a duration for humans: ``0.4s``, ``12s``, ``3m 05s``, ``2h 01m``."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"
