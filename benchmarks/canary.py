"""What canary analysis adds to a deploy, against a rolling update with the same smoke
settings (the standard scenario: 5% for 10 minutes, error rate and latency every minute).

Both deploys run the engine in-process against the kubectl simulator, the smoke server and a
real Prometheus (Debian's binary) scraping an exporter, as the canary tests do. The canary's
pause is a wait the user asked for; it is cut by a time scale (10 minutes become 10 seconds,
a minute one second) and added back at its real length. What the benchmark measures is the
rest: planning, the canary's apply and readiness, the queries, its removal.

    python benchmarks/canary.py [--runs N] [--scale S] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "generator")]

from support.metrics_exporter import Traffic, start_exporter  # noqa: E402
from support.prometheus_server import start_prometheus  # noqa: E402
from support.sandbox import GOOD, default_state, deployment, write_sandbox  # noqa: E402
from support.smoke_server import start_server  # noqa: E402

from cdgen.deploy.cli import run  # noqa: E402

PAUSE_SECONDS = 600  # the standard scenario's 10 minutes
ERROR_RATE = (
    'sum(rate(http_requests_total{deployment="$canary",code=~"5.."}[1m])) / '
    'sum(rate(http_requests_total{deployment="$canary"}[1m]))'
)
P95 = (
    "histogram_quantile(0.95, sum by (le) "
    '(rate(http_request_duration_seconds_bucket{deployment="$canary"}[1m])))'
)


@dataclass
class Timing:
    rolling: float  # seconds: the whole rolling deploy
    canary: float  # seconds: the whole canary deploy, its scaled pause included
    scaled_pause: float
    checks: int
    phases: dict[str, float]

    @property
    def overhead(self) -> float:
        """What the canary adds beyond its pause: planning, apply, readiness, queries."""
        return self.canary - self.scaled_pause - self.rolling


def deploy(
    work: Path, smoke: str, image: str, env: dict[str, str], scale: float
) -> tuple[float, str]:
    summary = work / "summary"
    summary.write_text("", encoding="utf-8")
    environ = {
        "GITHUB_STEP_SUMMARY": str(summary),
        "CDGEN_NAMESPACE": "production",
        "CDGEN_DEPLOYMENT": "api",
        "CDGEN_SMOKE_URL": smoke,
        "CDGEN_SMOKE_RETRIES": "5",  # the standard scenario's smoke settings
        "CDGEN_SMOKE_INTERVAL": "10s",
        "CDGEN_IMAGE": image,
        **env,
    }
    started = time.perf_counter()
    code = run([], environ, io.StringIO(), time_scale=scale)
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"the deploy failed (exit {code}):\n{summary.read_text()}")
    return elapsed, summary.read_text(encoding="utf-8")


def phases(summary: str) -> dict[str, float]:
    """Seconds per phase, from the summary's table (durations under 10s have a decimal)."""
    found = {}
    for line in summary.split("### Phases", 1)[1].split("###", 1)[0].splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 3 and cells[1].endswith("s") and cells[1][:-1].replace(".", "").isdigit():
            found[cells[0]] = float(cells[1][:-1])
    return found


def measure(work: Path, scale: float, prometheus_url: str, smoke: str, state: Path) -> Timing:
    fresh = default_state(["production"])
    fresh["deployments"]["production/api"] = deployment(GOOD, replicas=19)
    fresh["http"].update({"ghcr.io/acme/api:r1": {}, "ghcr.io/acme/api:c1": {}})
    state.write_text(json.dumps(fresh), encoding="utf-8")
    rolling, _ = deploy(work, smoke, "ghcr.io/acme/api:r1", {}, scale)
    state.write_text(json.dumps(fresh), encoding="utf-8")
    analysis = {
        "prometheus": prometheus_url,
        "interval": "1m",
        "on-no-data": "fail",
        "metrics": [
            {"name": "error-rate", "query": ERROR_RATE, "max": 0.01},
            {"name": "p95-latency", "query": P95, "max": 0.5},
        ],
    }
    env = {"CDGEN_STRATEGY": "canary", "CDGEN_ANALYSIS": json.dumps(analysis)}
    canary, summary = deploy(work, smoke, "ghcr.io/acme/api:c1", env, scale)
    checks = summary.count("| ✅ pass |")
    return Timing(rolling, canary, PAUSE_SECONDS * scale, checks, phases(summary))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1 / 60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        bin_dir = write_sandbox(work / "sandbox", default_state(["production"]))
        os.environ["PATH"] = f"{bin_dir}:{os.environ['PATH']}"
        state = work / "sandbox" / "state.json"
        smoke = start_server(str(state))
        exporter = start_exporter(lambda: {"api-canary": Traffic(), "api": Traffic()})
        prometheus = start_prometheus(work / "prometheus", [exporter.address])
        try:
            timings = [
                measure(work, args.scale, prometheus.url, f"{smoke.url}/production/api", state)
                for _ in range(args.runs)
            ]
        finally:
            prometheus.stop()
            exporter.shutdown()
            smoke.shutdown()
    report(timings, args.json)
    return 0


def report(timings: list[Timing], as_json: bool) -> None:
    rolling = statistics.median(t.rolling for t in timings)
    overhead = statistics.median(t.overhead for t in timings)
    checks = timings[0].checks
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "runs": len(timings),
        "rolling_seconds": round(rolling, 2),
        "canary_overhead_seconds": round(overhead, 2),
        "pause_seconds": PAUSE_SECONDS,
        "checks": checks,
        "added_seconds": round(PAUSE_SECONDS + overhead, 1),
        "canary_phases": {k: v for k, v in timings[-1].phases.items() if "anary" in k},
        "all": [asdict(t) for t in timings],
    }
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"rolling update (smoke retries 5, interval 10s): {rolling:.2f}s (median of {len(timings)})"
    )
    print(
        f"canary, 5% for 10 minutes, 2 metrics every minute: the pause ({PAUSE_SECONDS}s) "
        f"+ {overhead:.2f}s ({checks} checks, {2 * checks} queries; planning, apply, "
        "readiness and removal of the canary)"
    )
    added = PAUSE_SECONDS + overhead
    print(f"analysis adds {added:.1f}s to the deploy: the pause and {overhead:.2f}s")
    for name, seconds in result["canary_phases"].items():
        note = " (the scaled pause included)" if "step" in name else ""
        print(f"  {name}: {seconds:.1f}s{note}")


if __name__ == "__main__":
    sys.exit(main())
