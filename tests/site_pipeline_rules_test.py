"""The rules a static site's generated pipeline keeps (site: instead of image:), checked on
every site scenario among the goldens: built once, the same artifact through every
environment, the pinned CLIs only, tokens only where an environment gives them, records
written once per deploy by cdgen's action and by nothing else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pipeline_rules_test import SCENARIOS, _golden, _own_action, critical_path
from support.action_docs import load_action

from cdgen.deploy.site.clis import CLI_PINS

SITES = [name for name in SCENARIOS if "site" in _golden(name)[0]]
VERCEL_SITES = [name for name in SITES if _golden(name)[0]["site"]["provider"] == "vercel"]
assert VERCEL_SITES, "no golden deploys to Vercel: its rules would check nothing"
ACTION = load_action()
CD, CI, ROLLBACK = (f".github/workflows/{n}.yml" for n in ("cd", "ci", "rollback"))


def _steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def test_both_providers_have_scenarios() -> None:
    providers = {_golden(name)[0]["site"]["provider"] for name in SITES}
    assert providers == {"vercel", "cloudflare-pages"}


@pytest.mark.parametrize("name", SITES)
def test_the_site_is_built_once(name: str) -> None:
    """Vercel: only the first environment's job builds (`vercel build --prod`), and every
    later job takes the deployment the job before it passed. Cloudflare Pages: only the build
    job runs the build; each environment downloads that one artifact and uploads it."""
    descriptor, files = _golden(name)
    cd = files[CD]
    runs = [(job, step.get("run", "")) for job, step in _steps(cd)]
    first = f"deploy-{descriptor['environments'][0]['name']}"
    if descriptor["site"]["provider"] == "vercel":
        builds = [job for job, run in runs if '"$VERCEL_CLI" build --prod' in run]
        assert builds == [first]
        assert "build" not in cd["jobs"]
        for job_id, step in _steps(cd):
            if step.get("id") == "deploy" and job_id != first:
                previous = cd["jobs"][job_id]["needs"][-1]
                assert step["with"]["image"] == f"${{{{ needs.{previous}.outputs.deployment }}}}"
        return
    build = [job for job, step in _steps(cd) if step.get("env", {}).get("BUILD_COMMAND")]
    assert build == ["build"]
    uploaded = [s["with"]["name"] for j, s in _steps(cd) if "upload-artifact" in s.get("uses", "")]
    assert uploaded == ["cdgen-site"]
    for job_id, job in cd["jobs"].items():
        if job_id == "build":
            continue
        steps = job["steps"]
        (download,) = [s for s in steps if "download-artifact" in s.get("uses", "")]
        (deploy,) = [s for s in steps if s.get("id") == "deploy"]
        assert download["with"]["name"] == "cdgen-site"
        assert deploy["with"]["site-directory"] == download["with"]["path"]
        assert steps.index(download) < steps.index(deploy)
        assert "image" not in deploy["with"]  # an upload, never a promotion or a rebuild


@pytest.mark.parametrize("name", VERCEL_SITES)
def test_vercel_promotes_and_never_promotes_a_preview(name: str) -> None:
    """The last environment promotes (`site-production`); the others test the deployment at
    its own URL. No step asks the CLI to promote with `--yes` (which would build a preview
    again)."""
    descriptor, files = _golden(name)
    last = descriptor["environments"][-1]["name"]
    for job_id, step in _steps(files[CD]):
        if _own_action(step) and step["with"].get("mode") in ("deploy", "verify", "rollback"):
            promotes = step["with"].get("site-production") == "true"
            assert promotes == (job_id == f"deploy-{last}" and step.get("id") != "create")
            if not promotes:
                assert str(step["with"].get("smoke-url", "/")).startswith("/")
    text = "\n".join(str(step.get("run", "")) for _, step in _steps(files[CD]))
    assert "promote" not in text and "--yes --environment" in text


@pytest.mark.parametrize("name", SITES)
def test_every_cli_is_the_pinned_one_run_through_npx(name: str) -> None:
    descriptor, files = _golden(name)
    pin = CLI_PINS[descriptor["site"]["provider"]]
    for rel in (CD, CI, ROLLBACK):
        for _, step in _steps(files[rel]):
            run = str(step.get("run", ""))
            assert "npm install -g" not in run and "npm i -g" not in run
            for line in run.splitlines():
                if "npx" in line:
                    assert line.startswith('npx --yes --prefer-offline "$VERCEL_CLI" '), line
                    assert step["env"]["VERCEL_CLI"] == pin.spec()
            if _own_action(step) and "target" in step["with"]:
                assert step["with"]["site-cli-version"] == pin.version


@pytest.mark.parametrize("name", SITES)
def test_tokens_come_from_environment_secrets_only(name: str) -> None:
    """A job uses a secret only when it names an environment (whose secrets GitHub gives
    it); the build job and pull requests get none."""
    _, files = _golden(name)
    for rel in (CD, CI, ROLLBACK):
        for job_id, job in files[rel]["jobs"].items():
            text = repr(job)
            if "environment" not in job:
                assert "secrets." not in text, f"{rel}:{job_id}"
    assert "secrets." not in repr(files[CI])


@pytest.mark.parametrize("name", SITES)
def test_no_third_party_action_deploys_or_records(name: str) -> None:
    """The deploys run through cdgen's action only, so no action's own GitHub-deployment
    option (wrangler-action's gitHubToken, say) records a deploy a second time."""
    _, files = _golden(name)
    for rel in (CD, ROLLBACK):
        for _, step in _steps(files[rel]):
            uses = step.get("uses", "")
            if uses and not _own_action(step):
                action = uses.split("@")[0]
                assert action in {"actions/checkout", "actions/setup-node"} | {
                    "actions/upload-artifact",
                    "actions/download-artifact",
                }, action
                assert not {"github-token", "gitHubToken"} & set(step.get("with", {}))


@pytest.mark.parametrize("name", SITES)
def test_the_actions_inputs_are_its_own(name: str) -> None:
    """Every input a site step gives cdgen's action is one action.yml declares, with what
    each mode needs: the target and the project, and the deployment where one is named."""
    _, files = _golden(name)
    needed = {"target", "site-project", "site-account", "site-token", "environment"}
    for rel in (CD, ROLLBACK):
        for _, step in _steps(files[rel]):
            if not _own_action(step):
                continue
            given = set(step["with"])
            assert given <= set(ACTION["inputs"]), given - set(ACTION["inputs"])
            if step["with"]["mode"] == "record":
                assert not given & {"target", "site-token"}
            else:
                assert needed <= given
            if step["with"]["mode"] in ("rollback", "verify"):
                assert "image" in given


@pytest.mark.parametrize("name", SITES)
def test_rollback_yml_rolls_back_production_only(name: str) -> None:
    """Only production deployments can be served again (Vercel's rollback, Cloudflare's API),
    and only one the environment's records show went live there."""
    descriptor, files = _golden(name)
    rollback = files[ROLLBACK]
    options = rollback["on"]["workflow_dispatch"]["inputs"]["environment"]["options"]
    assert options == [descriptor["environments"][-1]["name"]]
    find = rollback["jobs"]["resolve"]["steps"][0]["run"]
    assert "grep -cx success || true" in find and "grep -q" not in find
    assert '"${images[$index]:-}" = "$WANTED"' in find
    assert rollback["jobs"]["resolve"]["permissions"] == {"deployments": "read"}


def test_the_critical_path_of_a_vercel_site() -> None:
    """No build job: staging's job builds; from a push to production, 2 jobs run one after
    another (Cloudflare Pages: 3, its build job first)."""
    _, vercel = _golden("site-vercel")
    assert critical_path(vercel[CD], "deploy-production") == ["deploy-staging", "deploy-production"]
    _, cloudflare = _golden("site-cloudflare-pages")
    path = critical_path(cloudflare[CD], "deploy-production")
    assert path == ["build", "deploy-staging", "deploy-production"]


@pytest.mark.parametrize("name", SITES)
def test_environment_urls_are_the_domain_or_the_deployments_own(name: str) -> None:
    descriptor, files = _golden(name)
    for env in descriptor["environments"]:
        job = files[CD]["jobs"][f"deploy-{env['name']}"]
        url = job["environment"]["url"]
        assert url == env.get("url", "${{ steps.deploy.outputs.deployed-image }}")
        assert job["environment"]["deployment"] is False
        assert re.fullmatch(r"cdgen-deploy-[a-z0-9-]+", job["concurrency"]["group"])
