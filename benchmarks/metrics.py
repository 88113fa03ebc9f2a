"""`cdgen metrics` over a history of 1,000 deployments served locally (DESIGN §9: ≤ 5 s,
reporting the number of requests).

The GitHub REST API double (tests/support/github_api.py) runs as its own process, seeded
with a month of deployments: a few commits before each, most deploys live and verified,
some rolled back or worse, some never finished or rejected at the gate, some redeploying
an older image. Each timed run is a whole `cdgen metrics --format json` process; the
requests it made are counted from the double's request log. The figures it prints are
checked against the history's own counts, so a wrong answer is not timed as a fast one.

    python benchmarks/metrics.py [--deployments N] [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOUBLE = ROOT / "tests" / "support" / "github_api.py"
REPO = "acme/api"
TOKEN = "ghs_benchmark_token"
SINCE = datetime(2026, 9, 1, tzinfo=UTC)
DAYS = 30
BUDGET = 5.0
TIMEOUT = 120.0


@dataclass
class History:
    seed: dict[str, Any]
    successful: int = 0
    failed: int = 0
    ignored: int = 0
    commit_times: list[datetime] = field(default_factory=list)  # the main line, in order
    shipped: list[tuple[datetime, int]] = field(default_factory=list)  # (live at, commit)

    def lead_times(self) -> list[float]:
        """The linear history's answer: each commit from the first one shipped on goes
        live with the first success whose image contains it."""
        first = self.shipped[0][1]
        newest = max(index for _, index in self.shipped)
        return [
            (next(at for at, shipped in self.shipped if shipped >= index) - made).total_seconds()
            for index, made in enumerate(self.commit_times)
            if first <= index <= newest
        ]


@dataclass
class Result:
    deployments: int
    runs: int
    median_s: float
    min_s: float
    max_s: float
    requests: int
    by_endpoint: dict[str, int] = field(default_factory=dict)
    budget_s: float = BUDGET
    verdict: str = "n/a"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_history(count: int, rng: random.Random) -> History:
    """``count`` deployments spread over the window, the first one the first ever."""
    history = History(seed={})
    commits: list[dict[str, Any]] = []
    deployments: list[dict[str, Any]] = []
    gap = timedelta(days=DAYS) / (count + 1)
    for index in range(count):
        start = (SINCE + gap * (index + 1)).replace(microsecond=0)  # GitHub keeps seconds
        for step in range(rng.randint(1, 4)):  # the commits made since the last deploy
            sha = hashlib.sha1(f"commit {len(commits)}".encode(), usedforsecurity=False)
            parents = [commits[-1]["sha"]] if commits else []
            made = (start - gap / 2 + timedelta(minutes=step)).replace(microsecond=0)
            commits.append({"sha": sha.hexdigest(), "date": iso(made), "parents": parents})
            history.commit_times.append(made)
        position = len(commits) - 1
        if history.shipped and rng.random() < 0.05:  # redeploy an image shipped before
            position = rng.choice(history.shipped[-5:])[1]
        statuses, outcome, live = deployment_statuses(start, rng)
        deployments.append(
            {"sha": commits[position]["sha"], "created_at": iso(start), "statuses": statuses}
        )
        if live is not None:
            history.shipped.append((live, position))
        setattr(history, outcome, getattr(history, outcome) + 1)
    commits[-1]["branch"] = "main"
    history.seed = {"repos": {REPO: {"commits": commits, "deployments": deployments}}}
    return history


def deployment_statuses(
    start: datetime, rng: random.Random
) -> tuple[list[list[str]], str, datetime | None]:
    """The statuses, the outcome counted, and when the image went live (if it did)."""

    def at(minutes: float) -> str:
        return iso(start + timedelta(minutes=minutes))

    roll = rng.random()
    if roll < 0.85:
        live = start + timedelta(minutes=6)
        return (
            [["queued", at(0)], ["in_progress", at(1)], ["success", iso(live)]],
            "successful",
            live,
        )
    if roll < 0.93:
        return [["in_progress", at(0)], ["failure", at(8)]], "failed", None  # rolled back
    if roll < 0.95:
        return [["in_progress", at(0)], ["error", at(9)]], "failed", None  # rollback failed
    if roll < 0.98:
        return [["queued", at(0)]], "ignored", None  # never finished
    return [["queued", at(0)], ["failure", at(3)]], "ignored", None  # rejected at the gate


def start_double(tmp: Path, history: History) -> tuple[subprocess.Popen[bytes], str, Path]:
    seed, port_file, record = tmp / "seed.json", tmp / "port", tmp / "requests.jsonl"
    seed.write_text(json.dumps(history.seed), encoding="utf-8")
    command = [sys.executable, str(DOUBLE), "--seed", str(seed), "--port-file", str(port_file)]
    # A run makes about a thousand requests: lift the double's hourly quota (5,000).
    quota = ["--quota", str(10**9)]
    server = subprocess.Popen([*command, "--token", TOKEN, "--record", str(record), *quota])
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text(encoding="utf-8").strip():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit(f"the GitHub API double did not start (exit {server.poll()})")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port_file.read_text(encoding='utf-8').strip()}", record


def run_metrics(url: str, cwd: Path) -> tuple[float, dict[str, Any]]:
    until = SINCE + timedelta(days=DAYS)
    command = [
        str(Path(sys.executable).with_name("cdgen")),
        "metrics",
        *("--repo", REPO, "--environment", "production", "--format", "json"),
        *("--since", f"{SINCE:%Y-%m-%d}", "--until", f"{until:%Y-%m-%d}", "--api-url", url),
    ]
    env = {**os.environ, "GH_TOKEN": TOKEN}
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, timeout=TIMEOUT, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"cdgen metrics failed (exit {done.returncode}): {done.stderr.decode()}")
    return elapsed, json.loads(done.stdout)


def check_figures(figures: dict[str, Any], history: History) -> None:
    counted = figures["deployments"]
    expected = {
        "total": history.successful + history.failed,
        "successful": history.successful,
        "failed": history.failed,
    }
    lead_times = history.lead_times()
    lead = {"median": statistics.median(lead_times), "commits": len(lead_times)}
    found = {key: figures["lead_time_seconds"][key] for key in lead}
    if counted != expected or found != lead:
        raise SystemExit(f"wrong figures: {counted} {found}, the history has {expected} {lead}")


def requests_since(record: Path, seen: int) -> tuple[int, Counter[str]]:
    lines = record.read_text(encoding="utf-8").splitlines()
    return len(lines), Counter(json.loads(line)["endpoint"] for line in lines[seen:])


def measure(count: int, runs: int) -> Result:
    history = build_history(count, random.Random(20260901))
    with tempfile.TemporaryDirectory(prefix="cdgen-bench-metrics-") as name:
        tmp = Path(name)
        server, url, record = start_double(tmp, history)
        try:
            run_metrics(url, tmp)  # warm-up: file caches, the double's first answers
            seen, _ = requests_since(record, 0)
            times, per_run = [], Counter[str]()
            for _ in range(runs):
                elapsed, figures = run_metrics(url, tmp)
                check_figures(figures, history)
                times.append(elapsed)
                total, per_run = requests_since(record, seen)
                seen = total
        finally:
            server.terminate()
            server.wait(timeout=10)
    median = statistics.median(times)
    return Result(
        deployments=count,
        runs=runs,
        median_s=median,
        min_s=min(times),
        max_s=max(times),
        requests=sum(per_run.values()),
        by_endpoint=dict(sorted(per_run.items())),
        verdict="PASS" if median <= BUDGET else "OVER",
    )


def render(result: Result) -> str:
    lines = [
        f"cdgen metrics over {result.deployments} deployments served by the local GitHub API "
        f"double: whole-process wall time, {result.runs} runs after a warm-up",
        f"Python {platform.python_version()} on {platform.system()}, {os.cpu_count()} CPUs",
        "",
        f"median {result.median_s:.3f} s (min {result.min_s:.3f} s, max {result.max_s:.3f} s),"
        f" budget {result.budget_s:.1f} s: {result.verdict}",
        f"requests per run: {result.requests}",
    ]
    lines += [f"  {count:>5}  {endpoint}" for endpoint, count in result.by_endpoint.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs (min 1)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.deployments < 1:
        parser.error("--runs and --deployments must be at least 1")
    result = measure(args.deployments, args.runs)
    print(json.dumps(asdict(result), indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
