"""Whole-process wall time of the cdgen CLI against the budgets of DESIGN §9.

Every case runs as a fresh subprocess (what a user or pre-commit pays): one untimed
warm-up, then ``--runs`` timed runs; the median is reported in seconds and as a ratio to
``python -c pass`` measured in the same run, so figures compare across machines.

    python benchmarks/cli.py [--runs N] [--json]

A command that fails is reported as not available with its exit code and first stderr
line; the benchmark itself only fails on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "hello-api"
SERVICES = (1, 10, 100)  # the services of each monorepo case; DESIGN §9 budgets 100
TIMEOUT = 120.0


@dataclass(frozen=True)
class Case:
    name: str
    argv: list[str]
    cwd: Path
    budget: float | None  # seconds, DESIGN §9; None where it sets none
    writes: Path | None = None  # a directory the command must fill, or it measured nothing


@dataclass(frozen=True)
class Result:
    name: str
    command: str
    budget_s: float | None
    median_s: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    ratio: float | None = None
    verdict: str = "n/a"  # PASS | OVER | n/a | not available
    error: str | None = None
    cd_yml_bytes: int | None = None  # the size of the cd.yml the case generated


def cd_yml_size(case: Case) -> int | None:
    cd = case.writes / ".github" / "workflows" / "cd.yml" if case.writes else None
    return cd.stat().st_size if cd is not None and cd.is_file() else None


def run_once(case: Case) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    start = time.perf_counter()
    done = subprocess.run(
        case.argv, cwd=case.cwd, capture_output=True, timeout=TIMEOUT, check=False
    )
    return time.perf_counter() - start, done


def failure(done: subprocess.CompletedProcess[bytes]) -> str:
    lines = done.stderr.decode(errors="replace").strip().splitlines() or ["(no stderr)"]
    return f"exit {done.returncode}: {lines[0].strip()}"


def measure(case: Case, runs: int, baseline: float | None) -> Result:
    command = " ".join(["cdgen", *case.argv[1:]] if case.argv[0].endswith("cdgen") else case.argv)
    result = Result(name=case.name, command=command, budget_s=case.budget)
    if not Path(case.argv[0]).exists():
        return _unavailable(result, f"{case.argv[0]} does not exist")
    try:
        _, warm = run_once(case)
        if warm.returncode != 0:
            return _unavailable(result, failure(warm))
        if case.writes is not None and not any(p.is_file() for p in case.writes.rglob("*")):
            return _unavailable(result, f"exit 0 but no files written to {case.writes.name}/")
        times = []
        for _ in range(runs):
            elapsed, done = run_once(case)
            if done.returncode != 0:
                return _unavailable(result, failure(done))
            times.append(elapsed)
    except subprocess.TimeoutExpired:
        return _unavailable(result, f"timed out after {TIMEOUT:.0f} s")
    median = statistics.median(times)
    verdict = "n/a" if case.budget is None else ("PASS" if median <= case.budget else "OVER")
    return Result(
        name=case.name,
        command=command,
        budget_s=case.budget,
        median_s=median,
        min_s=min(times),
        max_s=max(times),
        ratio=median / baseline if baseline else 1.0,
        verdict=verdict,
        cd_yml_bytes=cd_yml_size(case),
    )


def _unavailable(result: Result, error: str) -> Result:
    return Result(
        name=result.name,
        command=result.command,
        budget_s=result.budget_s,
        verdict="not available",
        error=error,
    )


def many_services_descriptor(count: int) -> str:
    """A monorepo's descriptor (`services:`) with ``count`` services, each with its own
    build context, test and smoke path, deployed to staging (with e2e) and production."""
    lines = ["version: 1", "name: shop", "branch: main", "image:", "  repository: acme/shop"]
    lines.append("services:")
    for index in range(1, count + 1):
        name = f"service-{index:03d}"
        lines += [
            f"  - name: {name}",
            f"    image: {{ context: services/{name}, test: make test }}",
            "    smoke: { path: /healthz }",
        ]
    lines += [
        "environments:",
        "  - name: staging",
        "    url: https://staging.example.com",
        "    kubernetes: { namespace: staging, kubeconfig-secret: STAGING_KUBE_CONFIG }",
        "    smoke: { path: /health }",
        "    e2e: { run: npm run test:e2e }",
        "  - name: production",
        "    url: https://example.com",
        "    approval: reviewers",
        "    kubernetes: { namespace: production, kubeconfig-secret: PROD_KUBE_CONFIG }",
        "    smoke: { path: /health }",
    ]
    return "\n".join(lines) + "\n"


def prepare(workdir: Path, cdgen: Path) -> list[Case]:
    """Copy the example twice (as is, and with a large descriptor) and list the cases."""
    example = workdir / "example"
    shutil.copytree(EXAMPLE, example, ignore=shutil.ignore_patterns("node_modules"))
    monorepos = {count: workdir / f"services-{count}" for count in SERVICES}
    for count, repo in monorepos.items():
        repo.mkdir()
        (repo / "cdgen.yml").write_text(many_services_descriptor(count), encoding="utf-8")
    # `check` should measure the clean path: generated files present and up to date.
    subprocess.run(
        [str(cdgen), "generate"], cwd=example, capture_output=True, timeout=TIMEOUT, check=False
    )
    out = workdir / "out"
    exe = str(cdgen)
    return [
        Case("python -c pass", [sys.executable, "-c", "pass"], example, None),
        Case("cdgen --help", [exe, "--help"], example, 0.15),
        Case("cdgen validate", [exe, "validate"], example, None),
        # After the first run the files are up to date: answered from their headers.
        Case("cdgen generate", [exe, "generate", "--output", str(out)], example, 0.2, out),
        Case("cdgen check", [exe, "check"], example, 0.2),
        # --force re-validates and re-renders every time: the cost after an edit.
        Case(
            "generate --force",
            [exe, "generate", "--force", "--output", str(out)],
            example,
            None,
            out,
        ),
        *(
            Case(
                f"generate, {count} service{'' if count == 1 else 's'}",
                [exe, "generate", "--force", "--config", "cdgen.yml", "--output", "out"],
                repo,
                2.0 if count == max(SERVICES) else None,
                repo / "out",
            )
            for count, repo in monorepos.items()
        ),
    ]


def run_all(runs: int) -> list[Result]:
    cdgen = Path(sys.executable).with_name("cdgen")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="cdgen-bench-") as tmp:
        cases = prepare(Path(tmp), cdgen)
        baseline: float | None = None
        for case in cases:
            result = measure(case, runs, baseline)
            if baseline is None:
                baseline = result.median_s
            results.append(result)
    return results


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f} s"


def render_table(results: list[Result], runs: int) -> str:
    rows = [
        f"cdgen CLI: median whole-process wall time of {runs} runs after a warm-up",
        f"Python {platform.python_version()} on {platform.system()}, {os.cpu_count()} CPUs",
        "",
        f"{'case':<26} {'median':>9} {'ratio':>7} {'budget':>9}  {'verdict':<7} {'cd.yml':>10}",
    ]
    for result in results:
        if result.error is not None:
            rows.append(f"{result.name:<26} not available ({result.error})")
            continue
        ratio = "—" if result.ratio is None else f"{result.ratio:.1f}x"
        size = "" if result.cd_yml_bytes is None else f"{result.cd_yml_bytes:,} B"
        rows.append(
            f"{result.name:<26} {seconds(result.median_s):>9} {ratio:>7} "
            f"{seconds(result.budget_s):>9}  {result.verdict:<7} {size:>10}".rstrip()
        )
    return "\n".join(rows)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per case (min 1)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = run_all(args.runs)
    if args.json:
        document = {
            "runs": args.runs,
            "cpus": os.cpu_count(),
            "results": [asdict(r) for r in results],
        }
        print(json.dumps(document, indent=2))
    else:
        print(render_table(results, args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
