"""A site descriptor's rules: every violation at its exact position, all at once, and nothing
written (the schema's shape, and the rules one key cannot state: cdgen/site_rules.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML
from validate_test import problems

from cdgen.cli import main
from cdgen.model import build_model
from cdgen.site_model import SitePipeline
from cdgen.stamp import Stamp

VERCEL = """\
version: 1
name: web
site:
  provider: vercel
  project: prj_Web12345
  org-id: team_Acme12345
environments:
  - name: staging
    smoke: { path: /health }
    e2e: { run: npm run test:e2e }
  - name: production
    url: https://www.example.com
    approval: reviewers
    smoke: { path: /health }
    e2e: { run: npm run test:e2e, rollback-on-failure: true }
"""
CLOUDFLARE = """\
version: 1
name: web
site:
  provider: cloudflare-pages
  project: acme-web
  account-id: 023e105f4ecef8ad9ca31a8372d0c353
environments:
  - name: staging
    url: https://staging.acme-web.pages.dev
  - name: production
    url: https://acme.example.com
    e2e: { run: npm run test:e2e, rollback-on-failure: true }
"""


def test_both_examples_are_valid() -> None:
    assert problems(VERCEL) == []
    assert problems(CLOUDFLARE) == []


CASES = [
    pytest.param(
        VERCEL.replace("version: 1\n", "version: 1\nimage: {}\n"),
        [
            "4:1: site: a descriptor deploys an image (line 2) or a static site, not both: remove one"
        ],
        id="image-and-site",
    ),
    pytest.param(
        VERCEL.replace("  org-id: team_Acme12345\n", ""),
        ["4:3: site: missing required key 'org-id' (provider vercel)"],
        id="vercel-needs-its-owner",
    ),
    pytest.param(
        VERCEL.replace("prj_Web12345", "acme-web"),
        [
            "5:12: site.project: Vercel: must be the project's ID (prj_ then letters and digits) (got 'acme-web')"
        ],
        id="vercel-project-is-an-id",
    ),
    pytest.param(
        CLOUDFLARE.replace("acme-web\n", "prj_Web12345\n"),
        [
            "5:12: site.project: Cloudflare Pages: must be the project's name (lowercase letters, "
            "digits and '-', at most 58 characters) (got 'prj_Web12345')"
        ],
        id="cloudflare-project-is-a-name",
    ),
    pytest.param(
        CLOUDFLARE.replace("  account-id:", "  org-id: team_Acme12345\n  account-id:"),
        ["6:3: site.org-id: Vercel only; remove it for provider cloudflare-pages"],
        id="a-key-of-the-other-provider",
    ),
    pytest.param(
        VERCEL.replace(
            "    smoke: { path: /health }\n    e2e: { run: npm run test:e2e }\n",
            "    url: https://staging.example.com\n",
            1,
        ),
        [
            "9:5: environments[0].url: a Vercel environment before the last tests the new "
            "deployment at its own URL, which no domain serves yet; remove url"
        ],
        id="vercel-staging-has-no-url",
    ),
    pytest.param(
        VERCEL.replace("    url: https://www.example.com\n", ""),
        [
            "11:5: environments[1]: missing required key 'url' (the last environment of a "
            "Vercel site is production: the domain the promoted deployment serves)"
        ],
        id="vercel-production-has-a-url",
    ),
    pytest.param(
        VERCEL.replace(
            "e2e: { run: npm run test:e2e }",
            "e2e: { run: npm run test:e2e, rollback-on-failure: true }",
            1,
        ),
        [
            "10:35: environments[0].e2e.rollback-on-failure: no domain serves the deployment "
            "before production, so there is nothing to roll back: failed tests stop the "
            "pipeline; remove it"
        ],
        id="vercel-staging-cannot-roll-back",
    ),
    pytest.param(
        CLOUDFLARE.replace(
            "url: https://acme.example.com\n",
            "url: https://acme.example.com\n    site: { branch: release }\n",
        ),
        [
            "13:35: environments[1].e2e.rollback-on-failure: branch 'release' makes preview "
            "deployments, which Cloudflare cannot roll back (only production deployments, of "
            "branch 'main'): remove it"
        ],
        id="cloudflare-preview-cannot-roll-back",
    ),
    pytest.param(
        CLOUDFLARE.replace(
            "  - name: staging\n", "  - name: staging\n    site: { branch: main }\n"
        ),
        [
            "11:11: environments[1].name: deploys to branch 'main' like environment 'staging': "
            "each environment needs a branch of its own (set environments[].site.branch)"
        ],
        id="one-branch-per-environment",
    ),
    pytest.param(
        CLOUDFLARE.replace(
            "    url: https://staging.acme-web.pages.dev\n",
            "    url: https://staging.acme-web.pages.dev\n    approval: manual\n    kubernetes: { namespace: x }\n",
        ),
        [
            "10:15: environments[0].approval: manual promotion takes an already built image; a "
            "site's environments are approved with none or reviewers",
            "11:5: environments[0].kubernetes: a site has no Kubernetes Deployment; remove it",
            "12:11: environments[1].name: environment 'production' follows manual environment "
            "'staging', so it must be 'approval: manual' too (manual environments are promoted "
            "by hand, in order)",
        ],
        id="no-manual-no-kubernetes",
    ),
    pytest.param(
        CLOUDFLARE.replace(
            "    url: https://acme.example.com\n",
            "    url: https://acme.example.com\n    canary: { steps: [5] }\n",
        ),
        [
            "12:5: environments[1].canary: a site has no Kubernetes Deployment; remove it",
            "12:5: environments[1].canary: missing required key 'analysis'",
        ],
        id="no-canary",
    ),
    pytest.param(
        CLOUDFLARE.replace("  account-id:", '  node-version: "20"\n  account-id:'),
        ["6:17: site.node-version: wrangler 4.125.0 needs Node.js 22 or newer (got '20')"],
        id="wrangler-needs-node-22",
    ),
    pytest.param(
        VERCEL.replace(
            "e2e: { run: npm run test:e2e }",
            'e2e: { run: npm run test:e2e, node-version: "22" }',
            1,
        ),
        [
            "10:35: environments[0].e2e.node-version: a site's jobs set up site.node-version for "
            "the build, the provider's CLI and the tests; remove it"
        ],
        id="one-node-for-a-site",
    ),
    pytest.param(
        CLOUDFLARE.replace(
            "  - name: staging\n", "  - name: staging\n    kubernetes: { namespace: x }\n"
        )
        .replace(
            "site:\n  provider: cloudflare-pages\n  project: acme-web\n  account-id: 023e105f4ecef8ad9ca31a8372d0c353\n",
            "image: {}\n",
        )
        .replace("    e2e:", "    site: { branch: main }\n    e2e:"),
        [
            "8:5: environments[1]: missing required key 'kubernetes'",
            "10:5: environments[1].site: only a descriptor with a top-level site has it; an "
            "image's environment deploys with kubernetes",
        ],
        id="an-image-environment-has-no-site",
    ),
    pytest.param(
        VERCEL.replace("provider: vercel", "provider: netlify"),
        ["4:13: site.provider: must be one of: vercel, cloudflare-pages (got 'netlify')"],
        id="unknown-provider",
    ),
    pytest.param(
        VERCEL.replace(
            "  org-id: team_Acme12345\n",
            '  org-id: team_Acme12345\n  cli-version: "58"\n  token-secret: GITHUB_TOKEN\n',
        ),
        [
            "7:16: site.cli-version: must be an exact version such as 58.4.4 (major.minor.patch) (got '58')",
            "8:17: site.token-secret: must be a GitHub secret name: letters, digits and '_', not "
            "starting with a digit or GITHUB_ (got 'GITHUB_TOKEN')",
        ],
        id="pinned-cli-and-secret-name",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_bad_site_descriptor(text: str, expected: list[str]) -> None:
    assert problems(text) == [f"cdgen.yml:{e}" for e in expected]


def test_the_model_of_each_provider() -> None:
    stamp = Stamp("5f0c3b7a1e2d4c6b8a9f0e1d2c3b4a5968778695", "v0.1.0", False)
    vercel = build_model(YAML(typ="safe").load(VERCEL), stamp)
    assert isinstance(vercel, SitePipeline)
    assert [(e.builds, e.production, e.url) for e in vercel.environments] == [
        (True, False, None),
        (False, True, "https://www.example.com"),
    ]
    assert vercel.site.token_secret == "VERCEL_TOKEN" and vercel.site.cli_spec == "vercel@58.4.4"
    cloudflare = build_model(YAML(typ="safe").load(CLOUDFLARE), stamp)
    assert isinstance(cloudflare, SitePipeline)
    assert [(e.branch, e.production) for e in cloudflare.environments] == [
        ("staging", False),
        ("main", True),
    ]
    assert cloudflare.site.token_secret == "CLOUDFLARE_API_TOKEN"
    assert cloudflare.site.output == "dist" and cloudflare.site.install == "npm ci"


def test_a_bad_site_descriptor_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cdgen.yml"
    config.write_text(VERCEL.replace("  org-id: team_Acme12345\n", ""), encoding="utf-8")
    assert main(["generate", "--config", str(config)]) == 1
    assert "cdgen.yml:4:3: site: missing required key 'org-id'" in capsys.readouterr().err
    assert not (tmp_path / ".github").exists()


def test_doctor_says_a_site_has_no_cluster_to_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cdgen.yml"
    config.write_text(VERCEL, encoding="utf-8")
    assert main(["doctor", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "deploys a static site (site:): cdgen doctor checks the Kubernetes" in err


def test_a_sites_environment_may_run_on_a_self_hosted_runner(tmp_path: Path) -> None:
    from support.generated import render_descriptor

    text = CLOUDFLARE.replace(
        "    url: https://acme.example.com\n",
        "    url: https://acme.example.com\n    runs-on: deployer\n",
    )
    files = {
        rel: YAML(typ="safe").load(body) for rel, body in render_descriptor(tmp_path, text).items()
    }
    cd, rollback = files[".github/workflows/cd.yml"], files[".github/workflows/rollback.yml"]
    assert cd["jobs"]["deploy-production"]["runs-on"] == "deployer"
    assert rollback["jobs"]["rollback-production"]["runs-on"] == "deployer"
    assert {cd["jobs"][job]["runs-on"] for job in ("build", "deploy-staging")} == {"ubuntu-latest"}
    assert files[".github/actionlint.yaml"] == {"self-hosted-runner": {"labels": ["deployer"]}}
