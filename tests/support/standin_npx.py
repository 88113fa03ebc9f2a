#!/usr/bin/env python3
"""A strict stand-in for ``npx`` running the pinned Vercel and Cloudflare CLIs.

It accepts exactly the commands cdgen's workflows and its site engine run, in exactly their
syntax, and refuses anything else with exit 2 and a message saying what it refused:

    npx --yes --prefer-offline vercel@PIN   --version
                                            pull --yes --environment=production
                                            build --prod
                                            deploy --prebuilt --prod --skip-domain
                                            inspect HOST --format=json [--scope TEAM]
                                            promote URL --timeout=Ns [--scope TEAM]
                                            rollback URL --timeout=Ns [--scope TEAM]
    npx --yes --prefer-offline wrangler@PIN --version
                                            pages deploy DIR --project-name=P --branch=B
                                              [--commit-hash=SHA] --commit-dirty=false

PIN is the one version the lab's state allows. The credentials must come from the
environment (VERCEL_TOKEN, VERCEL_ORG_ID, VERCEL_PROJECT_ID; CLOUDFLARE_API_TOKEN,
CLOUDFLARE_ACCOUNT_ID) and be the lab's; a ``--token`` on the command line, or any of the
deploy engine's own inputs (``CDGEN_*``) in the environment, is refused. Every call is
appended to the state's ``calls``. Deploys keep the files they were made from (Vercel: the
prebuilt ``.vercel/output/static``; wrangler: DIR), which the lab's site server answers with.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.site_state import (
    CLOUDFLARE_ACCOUNT,
    CLOUDFLARE_PROJECT,
    CLOUDFLARE_TOKEN,
    VERCEL_ORG,
    VERCEL_PROJECT,
    VERCEL_TOKEN,
    SiteState,
    cloudflare_deployment,
    read_files,
    vercel_deployment,
)

State = dict[str, Any]
_TIMEOUT = re.compile(r"--timeout=[0-9]{1,5}s")


class Refused(Exception):
    pass


def main(argv: list[str]) -> int:
    store = SiteState(Path(os.environ["SITE_LAB_STATE"]))
    seen = sorted(k for k in os.environ if k.startswith(("VERCEL_", "CLOUDFLARE_", "CDGEN_")))
    with store.change() as state:
        state["calls"].append({"argv": argv, "env": seen, "cwd": os.getcwd()})
    try:
        return run(store, argv)
    except Refused as refused:
        print(f"stand-in npx: refused: {refused} (argv: {argv})", file=sys.stderr)
        return 2


def run(store: SiteState, argv: list[str]) -> int:
    if argv[:2] != ["--yes", "--prefer-offline"] or len(argv) < 4:
        raise Refused("not `npx --yes --prefer-offline PACKAGE@VERSION ARGS`")
    package, _, version = argv[2].partition("@")
    pins = store.read()["pins"]
    if pins.get(package) != version:
        raise Refused(f"{argv[2]} is not a pinned CLI ({pins})")
    if any(key.startswith("CDGEN_") for key in os.environ):
        raise Refused("the CLI may not see the deploy engine's inputs (CDGEN_*)")
    args = argv[3:]
    if "--token" in " ".join(args):
        raise Refused("a token on the command line")
    if args == ["--version"]:
        print(f"{package} {version}")
        return 0
    return vercel(store, args) if package == "vercel" else wrangler(store, args)


# --- vercel ------------------------------------------------------------------------------


def vercel(store: SiteState, args: list[str]) -> int:
    _need_env(
        {
            "VERCEL_TOKEN": VERCEL_TOKEN,
            "VERCEL_ORG_ID": VERCEL_ORG,
            "VERCEL_PROJECT_ID": VERCEL_PROJECT,
        }
    )
    if args == ["pull", "--yes", "--environment=production"]:
        return _pull()
    if args == ["build", "--prod"]:
        return _build()
    if args == ["deploy", "--prebuilt", "--prod", "--skip-domain"]:
        return _deploy(store)
    scoped = args[:-2] if args[-2:] == ["--scope", VERCEL_ORG] else args
    if scoped == args and "--scope" in args:
        raise Refused("--scope names another team")
    if len(scoped) == 3 and scoped[0] == "inspect" and scoped[2] == "--format=json":
        return _inspect(store, scoped[1])
    if len(scoped) == 3 and scoped[0] in ("promote", "rollback") and _TIMEOUT.fullmatch(scoped[2]):
        return _switch(store, scoped[0], scoped[1])
    raise Refused("not a vercel command the workflows run")


def _need_env(wanted: dict[str, str]) -> None:
    for key, value in wanted.items():
        if os.environ.get(key) != value:
            raise Refused(f"{key} is not the lab's")


def _pull() -> int:
    settings = {"projectId": VERCEL_PROJECT, "orgId": VERCEL_ORG, "settings": {"framework": None}}
    Path(".vercel").mkdir(exist_ok=True)
    Path(".vercel/project.json").write_text(json.dumps(settings), encoding="utf-8")
    Path(".vercel/.env.production.local").write_text("", encoding="utf-8")
    print("Downloaded project settings to .vercel/project.json", file=sys.stderr)
    return 0


def _build() -> int:
    if not Path(".vercel/project.json").is_file():
        raise Refused("vercel build before vercel pull: no project settings")
    static = Path(".vercel/output/static")
    shutil.rmtree(".vercel/output", ignore_errors=True)
    shutil.copytree("public", static)  # the lab's sites are their public/ folder
    Path(".vercel/output/config.json").write_text('{"version": 3}', encoding="utf-8")
    print("Build Completed in .vercel/output", file=sys.stderr)
    return 0


def _deploy(store: SiteState) -> int:
    static = Path(".vercel/output/static")
    if not Path(".vercel/output/config.json").is_file() or not static.is_dir():
        raise Refused("vercel deploy --prebuilt without a prebuilt .vercel/output")
    with store.change() as state:
        lab = state["vercel"]
        if "deploy" in lab["fail"]:
            print("Error: Deployment failed", file=sys.stderr)
            return 1
        made = vercel_deployment(f"web-{len(lab['deployments']) + 1}", read_files(static))
        lab["deployments"][made["url"]] = made
    print(f"Inspect: https://vercel.com/acme/web/{made['id']}", file=sys.stderr)
    if "deploy-silent" not in lab["fail"]:  # a CLI that says nothing on stdout
        print(f"https://{made['url']}")
    return 0


def _find(lab: State, name: str) -> State | None:
    host = name.removeprefix("https://")
    found: State | None = lab["deployments"].get(host)
    if found is None:
        found = next((d for d in lab["deployments"].values() if d["id"] == name), None)
    return found


def _inspect(store: SiteState, host: str) -> int:
    lab = store.read()["vercel"]
    if "inspect" in lab["fail"]:
        print("Error: Request failed", file=sys.stderr)
        return 1
    if "inspect-garbage" in lab["fail"]:
        print("Vercel CLI 58.4.4\n> not JSON")
        return 0
    name = lab["production"] if host == lab["production_host"] else host
    found = _find(lab, name)
    if found is None:
        print(f'Error: Can\'t find the deployment "{host}"', file=sys.stderr)
        return 1
    shown = {key: found[key] for key in ("id", "name", "url", "target", "readyState", "createdAt")}
    print(json.dumps({**shown, "contextName": "acme"}, indent=2))
    return 0


def _switch(store: SiteState, verb: str, name: str) -> int:
    with store.change() as state:
        lab = state["vercel"]
        found = _find(lab, name)
        if found is None:
            raise Refused(f"{verb} of a deployment that does not exist: {name}")
        if verb in lab["fail"]:
            print(f"Error: {verb} failed", file=sys.stderr)
            return 1
        if f"{verb}-killed" in lab["fail"]:  # the process dies once the switch went through
            lab["production"] = found["url"]
            kill = True
        elif f"{verb}-noop" in lab["fail"]:  # "queued" or "Canceled", and exit 0 all the same
            print("Promotion has been queued", file=sys.stderr)
            return 0
        else:
            kill = False
            lab["production"] = found["url"]
    if kill:
        os.kill(os.getpid(), signal.SIGKILL)
    print(f"Success! {found['url']} is now the current production deployment", file=sys.stderr)
    return 0


# --- wrangler ----------------------------------------------------------------------------


def wrangler(store: SiteState, args: list[str]) -> int:
    _need_env(
        {"CLOUDFLARE_API_TOKEN": CLOUDFLARE_TOKEN, "CLOUDFLARE_ACCOUNT_ID": CLOUDFLARE_ACCOUNT}
    )
    commit = next((a for a in args if a.startswith("--commit-hash=")), None)
    expected = ["pages", "deploy"]
    if len(args) >= 5:
        expected += [args[2], f"--project-name={CLOUDFLARE_PROJECT}", args[4]]
        expected += [commit] if commit else []
        expected += ["--commit-dirty=false"]
    if args != expected or not args[4].startswith("--branch="):
        raise Refused("not the wrangler command the site engine runs")
    if commit is not None and not re.fullmatch(r"--commit-hash=[0-9a-f]{40}", commit):
        raise Refused("--commit-hash is not a commit")
    directory = Path(args[2])
    if not directory.is_dir():
        raise Refused(f"{directory} is not a directory")
    return _upload(store, directory, args[4].removeprefix("--branch="), commit or "")


def _upload(store: SiteState, directory: Path, branch: str, commit: str) -> int:
    with store.change() as state:
        lab = state["cloudflare"]
        if "upload" in lab["fail"]:
            print("✘ [ERROR] A request to the Cloudflare API failed.", file=sys.stderr)
            return 1
        production = branch == lab["production_branch"]
        made = cloudflare_deployment(
            branch,
            commit.removeprefix("--commit-hash="),
            read_files(directory),
            production=production,
        )
        lab["deployments"].insert(0, made)
        if production:
            lab["canonical"] = made["id"]
    output = os.environ.get("WRANGLER_OUTPUT_FILE_PATH")
    if output and "upload-silent" not in store.read()["cloudflare"]["fail"]:
        entry = {
            "type": "pages-deploy-detailed",
            "version": 1,
            "pages_project": CLOUDFLARE_PROJECT,
            "deployment_id": made["id"],
            "url": made["url"],
            "alias": None if production else f"https://{branch}.{CLOUDFLARE_PROJECT}.pages.dev",
            "environment": made["environment"],
            "production_branch": "main",
            "deployment_trigger": {
                "metadata": {"commit_hash": made["deployment_trigger"]["metadata"]["commit_hash"]}
            },
            "timestamp": "2026-01-01T00:00:00.000Z",
        }
        with open(output, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"type": "wrangler-session", "version": 1}) + "\n")
            handle.write(json.dumps(entry) + "\n")
    print(f"✨ Deployment complete! Take a peek over at {made['url']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
