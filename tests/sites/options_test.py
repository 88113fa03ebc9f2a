"""A site deploy's inputs: every one checked before anything runs, every problem at once."""

from __future__ import annotations

import pytest

from cdgen.deploy.inputs import INPUTS
from cdgen.deploy.options import InvalidInputsError, parse_options

from .conftest import CLOUDFLARE_INPUTS, VERCEL_INPUTS

CLOUDFLARE_ID = "f64788e9-fccd-4d4a-a28a-cb84f88f6eb5"


def _problems(**given: str) -> list[str]:
    raw = {spec.name: "" for spec in INPUTS}
    raw.update({"environment": "production", **given})
    try:
        parse_options(raw)
    except InvalidInputsError as error:
        return error.problems
    return []


def test_a_vercel_promotion_and_a_cloudflare_upload_are_valid() -> None:
    vercel = {**VERCEL_INPUTS, "site-production": "true", "image": "https://web-2.vercel.app"}
    assert _problems(**vercel, **{"smoke-url": "https://www.example.com/health"}) == []
    cloudflare = {**CLOUDFLARE_INPUTS, "site-branch": "main", "site-directory": "/tmp/site"}
    assert _problems(**cloudflare) == []


def test_an_unknown_target_is_named() -> None:
    assert _problems(target="netlify") == [
        "target: 'netlify' is not one of kubernetes, vercel, cloudflare-pages"
    ]


def test_every_missing_site_input_at_once() -> None:
    assert _problems(target="cloudflare-pages") == [
        "site-project: required with target cloudflare-pages",
        "site-account: required with target cloudflare-pages",
        "site-token: required with target cloudflare-pages (the API token)",
        "site-branch: required with target cloudflare-pages",
        "site-directory: required to deploy (the built files to upload)",
    ]


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        (
            {**VERCEL_INPUTS, "site-project": "acme-web"},
            "site-project: 'acme-web' is not a Vercel project ID (prj_ then letters and digits)",
        ),
        (
            {**CLOUDFLARE_INPUTS, "site-branch": "main", "site-account": "team_x"},
            "site-account: 'team_x' is not a Cloudflare account ID (32 hexadecimal digits)",
        ),
        (
            {**VERCEL_INPUTS, "mode": "verify", "image": CLOUDFLARE_ID},
            f"image: '{CLOUDFLARE_ID}' is not a Vercel deployment (its https:// URL or its dpl_ ID)",
        ),
        (
            {**CLOUDFLARE_INPUTS, "site-branch": "main", "mode": "rollback", "image": "dpl_1"},
            "image: 'dpl_1' is not a Cloudflare Pages deployment ID (a UUID)",
        ),
        (
            {**VERCEL_INPUTS, "site-production": "true"},
            "image: required to promote (the deployment that passed before)",
        ),
        (
            {
                **CLOUDFLARE_INPUTS,
                "site-branch": "main",
                "site-directory": "d",
                "image": CLOUDFLARE_ID,
            },
            "image: Cloudflare Pages has no promotion; mode deploy uploads site-directory",
        ),
        (
            {
                **VERCEL_INPUTS,
                "site-production": "true",
                "image": "https://a.vercel.app",
                "smoke-url": "/health",
            },
            "smoke-url: a path is only taken for a Vercel deployment tested at its own URL",
        ),
        (
            {**VERCEL_INPUTS, "image": "dpl_abc", "smoke-url": "/health"},
            "smoke-url: a path needs image as the deployment's URL, not its ID",
        ),
        (
            {**VERCEL_INPUTS, "site-branch": "main"},
            "site-branch: Cloudflare Pages only (target vercel takes none)",
        ),
        (
            {**VERCEL_INPUTS, "site-cli-version": "latest"},
            "site-cli-version: 'latest' is not an exact version (1.2.3)",
        ),
        (
            {**VERCEL_INPUTS, "site-token": "two words"},
            "site-token: not a token (printable characters, no spaces)",
        ),
        (
            {**CLOUDFLARE_INPUTS, "site-branch": "../x", "site-directory": "d"},
            "site-branch: '../x' is not a branch name",
        ),
        (
            {**VERCEL_INPUTS, "site-production": "yes"},
            "site-production: 'yes' is not 'true' or 'false'",
        ),
        (
            {**VERCEL_INPUTS, "strategy": "canary"},
            "strategy: a site has no canary (target vercel takes rolling only)",
        ),
        (
            {**VERCEL_INPUTS, "environment": ""},
            "environment: required with a site (it names the deployment record)",
        ),
    ],
)
def test_each_bad_input_is_named(given: dict[str, str], problem: str) -> None:
    assert problem in _problems(**given)


def test_the_cli_version_defaults_to_the_pin() -> None:
    raw = {spec.name: "" for spec in INPUTS}
    raw.update({**VERCEL_INPUTS, "environment": "staging"})
    site = parse_options(raw).site
    assert site is not None and site.cli == "vercel@58.4.4"
