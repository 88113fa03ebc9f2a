"""Running one engine per service, in parallel: each a child process (``python -m
cdgen.deploy``) with its own inputs, outputs file and summary file, its log relayed line by
line with the service's name in front.

The relay keeps the log safe: a line from a child never starts a workflow command of its
own (it is prefixed), except the ones the engine itself issues (masks, annotations, which
get the service's name in their message); a child's ``::stop-commands::`` fence becomes
prefixed lines, so one child's fence never silences another's annotations.

A cancellation (SIGINT or SIGTERM to this process) is passed on to every running engine,
which undoes its own change as a single run does; services not started yet are not started.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TextIO

from cdgen.deploy.cancel import signal_name
from cdgen.deploy.fleet import Member, MemberResult
from cdgen.deploy.outcome import FAILED, SKIPPED

PARALLEL = 32  # at most this many engines at once (services_model.py plans with it)
_COMMAND = re.compile(r"^::(error|warning|notice|debug)((?: [^:]*)?)::")
_FLEET_INPUTS = ("CDGEN_SERVICES", "CDGEN_IMAGES", "CDGEN_RESULTS")


def child_environment(environ: Mapping[str, str], inputs: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in environ.items() if k not in _FLEET_INPUTS}
    for name, value in inputs.items():
        env["CDGEN_" + name.upper().replace("-", "_")] = value
    return env


class Relay:
    """Writes children's lines to one stream, whole lines at a time."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def write(self, line: str) -> None:
        with self.lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass  # a lost log must not stop a deploy halfway

    def follow(self, service: str, pipe: Iterable[str]) -> None:
        prefix = f"[{service}] "
        fence = ""
        for raw in pipe:
            line = raw.rstrip("\n")
            if fence:
                if line == f"::{fence}::":
                    fence = ""
                else:
                    self.write(prefix + line)
            elif line.startswith("::stop-commands::"):
                fence = line[len("::stop-commands::") :]
            elif line.startswith("::add-mask::"):
                self.write(line)
            elif line.startswith("::group::"):
                self.write(prefix + "▶ " + line[len("::group::") :])
            elif line != "::endgroup::":
                found = _COMMAND.match(line)
                if found:
                    self.write(line[: found.end()] + prefix + line[found.end() :])
                else:
                    self.write(prefix + line)


class FleetRunner:
    def __init__(
        self, environ: Mapping[str, str], relay: Relay, command: list[str] | None = None
    ) -> None:
        self.environ = environ
        self.relay = relay
        self.command = command or [sys.executable, "-s", "-B", "-m", "cdgen.deploy"]
        self.cancelled = 0
        self.lock = threading.Lock()
        self.running: dict[str, subprocess.Popen[str]] = {}

    def run(self, members: list[Member], on_signal: Callable[[], int]) -> list[MemberResult]:
        """Every member's result, in the order given; ``on_signal`` is polled for a
        cancellation (the signal number, or 0) while waiting."""
        results: dict[str, MemberResult] = {}
        with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="cdgen-fleet") as pool:
            futures: dict[Future[MemberResult], str] = {
                pool.submit(self._one, member): member.service for member in members
            }
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    results[futures[future]] = future.result()
                signum = on_signal()
                if signum and not self.cancelled:
                    self.cancel(signum)
        return [results[m.service] for m in members]

    def cancel(self, signum: int) -> None:
        """Pass the signal on to every running engine; start none after it."""
        with self.lock:
            self.cancelled = signum
            children = list(self.running.values())
        for child in children:
            with contextlib.suppress(OSError):
                child.send_signal(signum)

    def _one(self, member: Member) -> MemberResult:
        with self.lock:
            if self.cancelled:
                return MemberResult(member.service, reason="cancelled before it started")
        if not member.inputs:
            return MemberResult(
                member.service, SKIPPED if member.ok else FAILED, reason=member.note
            )
        with tempfile.TemporaryDirectory(prefix="cdgen-fleet-") as folder:
            outputs = os.path.join(folder, "outputs")
            summary = os.path.join(folder, "summary.md")
            env = child_environment(self.environ, member.inputs)
            env.update({"GITHUB_OUTPUT": outputs, "GITHUB_STEP_SUMMARY": summary})
            code = self._spawn(member.service, env)
            result = MemberResult(member.service, exit_code=code)
            _read_outputs(outputs, result)
            result.summary = _read_text(summary)
        if not result.result:
            ended = f"killed by {signal_name(-code)}" if code < 0 else f"exit status {code}"
            result.result, result.lost = FAILED, True
            result.reason = f"its engine ended without a result ({ended})"
        return result

    def _spawn(self, service: str, env: dict[str, str]) -> int:
        with self.lock:
            if self.cancelled:
                return 128 + self.cancelled
            child = subprocess.Popen(
                self.command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="backslashreplace",
                start_new_session=True,  # only this process passes signals on to it
            )
            self.running[service] = child
        try:
            assert child.stdout is not None
            with child.stdout:
                self.relay.follow(service, child.stdout)
            return child.wait()
        finally:
            with self.lock:
                self.running.pop(service, None)


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="backslashreplace") as handle:
            return handle.read()
    except OSError:
        return ""


def _read_outputs(path: str, result: MemberResult) -> None:
    """The ``name<<DELIMITER`` outputs an engine wrote (summary.render_outputs)."""
    lines = _read_text(path).split("\n")
    values: dict[str, str] = {}
    index = 0
    while index < len(lines):
        name, marker, delimiter = lines[index].partition("<<")
        if marker and delimiter:
            end = lines.index(delimiter, index + 1) if delimiter in lines[index + 1 :] else -1
            if end < 0:
                break
            values[name] = "\n".join(lines[index + 1 : end])
            index = end
        index += 1
    result.result = values.get("result", "")
    result.previous_image = values.get("previous-image", "")
    result.deployed_image = values.get("deployed-image", "")
    result.deployment_id = values.get("deployment-id", "")
