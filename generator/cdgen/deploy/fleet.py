"""Several services of a monorepo in one step (the ``services`` input): what each service's
engine is asked to do, and what the step reports.

``services`` lists where each service runs (its Deployment, container, smoke URL and URL).
With ``images`` (a JSON object: service → image) the step deploys, verifies or rolls back
each service named there. With ``results`` (the ``services`` output of an earlier deploy
step) ``mode: rollback`` puts back the image each service ran before that step, only while
the image that step set is still live, and closes the step's deployment records; ``mode:
record`` closes those records with ``record-state``. Each service runs through an engine of
its own, in parallel (fleet_processes.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cdgen.deploy.markdown import cell, code
from cdgen.deploy.outcome import DEPLOYED, FAILED, ROLLED_BACK, SKIPPED, SUCCESS
from cdgen.deploy.recording import SERVICE

# What a service's entry of `services` may give; a key left out keeps the step's input
# (`environment-url`) or the engine's default (`container`: the deployment's name).
TARGET_KEYS = ("deployment", "container", "smoke-url", "environment-url")
# Inputs that name one Deployment: with `services`, each service's come from the fleet.
SINGLE_TARGET_INPUTS = ("image", "deployment", "container", "smoke-url", "only-if-live")
RESULT_KEYS = ("result", "previous-image", "deployed-image", "deployment-id")


class InvalidFleet(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Member:
    """One service's run: the inputs its engine gets on top of the step's own."""

    service: str
    inputs: dict[str, str]  # empty: no engine runs for it
    record: int | None = None  # results: the deployment record the earlier step left open
    note: str = ""  # why no engine runs for it
    ok: bool = False  # with no engine: whether that is a success


@dataclass
class MemberResult:
    service: str
    result: str = FAILED
    previous_image: str = ""
    deployed_image: str = ""
    deployment_id: str = ""
    exit_code: int = 1
    summary: str = ""
    reason: str = ""
    record: str = ""  # what became of the record this step closed
    # Its engine ended without a result (killed): what it changed, nothing undid.
    lost: bool = False

    def as_output(self) -> dict[str, str]:
        return {
            "result": self.result,
            "previous-image": self.previous_image,
            "deployed-image": self.deployed_image,
            "deployment-id": self.deployment_id,
        }


@dataclass
class Plan:
    mode: str
    members: list[Member] = field(default_factory=list)


def _json(raw: Mapping[str, str], name: str, problems: list[str]) -> Any:
    try:
        return json.loads(raw.get(name, ""))
    except ValueError as error:
        problems.append(f"{name}: not JSON ({error})")
        return None


def parse_targets(raw: Mapping[str, str], problems: list[str]) -> dict[str, dict[str, str]]:
    data = _json(raw, "services", problems)
    if data is None:
        return {}
    targets: dict[str, dict[str, str]] = {}
    if not isinstance(data, list) or not data:
        problems.append("services: must be a non-empty JSON list of objects")
        return targets
    for index, row in enumerate(data):
        name = row.get("service") if isinstance(row, dict) else None
        if not isinstance(name, str) or not SERVICE.fullmatch(name):
            problems.append(f"services[{index}]: `service` is not a service name")
            continue
        values = {key: row[key] for key in TARGET_KEYS if key in row}
        if not all(isinstance(value, str) and value for value in values.values()):
            problems.append(
                f"services[{index}] ({name}): deployment, container, smoke-url and "
                "environment-url are optional, but never empty and always strings"
            )
            continue
        values.setdefault("deployment", name)  # the service's name, as in cdgen.yml
        if name in targets:
            problems.append(f"services[{index}]: '{name}' is listed twice")
        targets[name] = values
    return targets


def plan_fleet(raw: Mapping[str, str]) -> Plan:
    """What each service's engine does; InvalidFleet lists every problem with the inputs."""
    problems: list[str] = []
    mode = raw.get("mode") or "deploy"
    for name in SINGLE_TARGET_INPUTS:
        if raw.get(name):
            problems.append(f"{name}: must be empty with `services` (each service has its own)")
    # Closing records needs no Deployment: `services` is optional there.
    record_only = mode == "record" and not raw.get("services")
    targets = {} if record_only else parse_targets(raw, problems)
    given = [name for name in ("images", "results") if raw.get(name)]
    wanted = {
        "deploy": ("images",),
        "verify": ("images",),
        "rollback": ("images", "results"),
        "record": ("results",),
    }.get(mode, ())
    if len(given) != 1 or given[0] not in wanted:
        problems.append(
            f"mode {mode} with `services` takes " + " or ".join(f"`{n}`" for n in wanted)
        )
    plan = Plan(mode)
    if not problems and given == ["images"]:
        plan.members = _from_images(raw, targets, problems)
    elif not problems:
        plan.members = _from_results(raw, targets, mode, problems)
    if problems:
        raise InvalidFleet(problems)
    return plan


def _target_inputs(service: str, target: dict[str, str]) -> dict[str, str]:
    return {"service": service, **target}


def _from_images(
    raw: Mapping[str, str], targets: dict[str, dict[str, str]], problems: list[str]
) -> list[Member]:
    images = _json(raw, "images", problems)
    if not isinstance(images, dict):
        problems.append("images: must be a JSON object: service → image")
        return []
    members = []
    for service in sorted(images):
        image = images[service]
        if not isinstance(image, str):
            problems.append(f"images.{service}: not a string")
        elif service not in targets:
            problems.append(f"images.{service}: no such service in `services`")
        elif image:  # an empty image: that service was not built by this run
            members.append(
                Member(service, {**_target_inputs(service, targets[service]), "image": image})
            )
    return members


def _from_results(
    raw: Mapping[str, str], targets: dict[str, dict[str, str]], mode: str, problems: list[str]
) -> list[Member]:
    results = _json(raw, "results", problems)
    if not isinstance(results, dict):
        problems.append("results: must be the JSON object a deploy step's `services` output is")
        return []
    members = []
    for service in sorted(results):
        entry = results[service]
        if (service not in targets and mode != "record") or not isinstance(entry, dict):
            problems.append(f"results.{service}: not a service of `services` with its results")
            continue
        values = {key: str(entry.get(key) or "") for key in RESULT_KEYS}
        record = int(values["deployment-id"]) if values["deployment-id"].isdigit() else None
        if values["result"] != DEPLOYED:
            continue  # it changed nothing, or its own engine already rolled it back
        if mode == "record":
            if record is not None:
                members.append(Member(service, {}, record, "closing its record", ok=True))
            continue
        previous, deployed = values["previous-image"], values["deployed-image"]
        if not previous:
            members.append(Member(service, {}, record, "the image it ran before is unknown"))
            continue
        if previous == deployed:
            members.append(Member(service, {}, record, "the deploy changed nothing", ok=True))
            continue
        inputs = {
            **_target_inputs(service, targets[service]),
            "image": previous,
            "only-if-live": deployed,
            "github-token": "",
            "commit": "",
        }
        members.append(Member(service, inputs, record))
    return members


def aggregate(mode: str, results: list[MemberResult], cancelled: bool) -> str:
    """The step's `result`: the mode's success when every service succeeded."""
    if cancelled:
        return FAILED
    if not results:
        return SKIPPED
    good = (SUCCESS.get(mode, DEPLOYED), SKIPPED)
    return SUCCESS.get(mode, DEPLOYED) if all(r.result in good for r in results) else FAILED


def render_outputs(mode: str, results: list[MemberResult], cancelled: bool, delimiter: str) -> str:
    services = {r.service: r.as_output() for r in sorted(results, key=lambda r: r.service)}
    values = {
        "result": aggregate(mode, results, cancelled),
        "services": json.dumps(services, separators=(",", ":")),
        "previous-image": "",
        "deployed-image": "",
        "deployment-id": "",
    }
    return "".join(f"{name}<<{delimiter}\n{value}\n{delimiter}\n" for name, value in values.items())


def render_summary(mode: str, environment: str, results: list[MemberResult], note: str) -> str:
    verb = {"deploy": "Deploy", "rollback": "Rollback", "verify": "Check", "record": "Records"}
    lines = [
        f"### {verb.get(mode, mode)} of {len(results)} service(s) in {cell(environment)}",
        "",
    ]
    if note:
        lines += [f"> {cell(note)}", ""]
    lines += ["| Service | Result | Live image now | Record |", "|---|---|---|---|"]
    for r in sorted(results, key=lambda r: r.service):
        live = code(r.deployed_image) if r.deployed_image else "—"
        shown = r.result if not r.reason else f"{r.result}: {r.reason}"
        lines.append(f"| {r.service} | {cell(shown)} | {live} | {cell(r.record or '—')} |")
    for r in sorted(results, key=lambda r: r.service):
        if r.summary.strip():
            icon = "✅" if r.result in (DEPLOYED, ROLLED_BACK, SKIPPED) else "❌"
            lines += [
                "",
                f"<details><summary>{icon} {r.service}</summary>",
                "",
                r.summary.rstrip(),
                "",
                "</details>",
            ]
    return "\n".join(lines) + "\n"
