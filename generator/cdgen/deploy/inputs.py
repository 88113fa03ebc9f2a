"""The engine's inputs: one table shared by the command line, the environment and action.yml."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputSpec:
    """One input: ``name`` in action.yml, ``--name`` on the command line, ``CDGEN_NAME`` in
    the environment. An empty value anywhere means "use the default"."""

    name: str
    default: str
    help: str
    secret: bool = False
    cli: bool = True

    @property
    def env(self) -> str:
        return "CDGEN_" + self.name.upper().replace("-", "_")

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


_KUBECONFIG_HELP = "kubeconfig content; read from the environment only, never from argv"
_TOKEN_HELP = "GitHub token that records the deploy; read from the environment only"  # noqa: S105
_SITE_TOKEN_HELP = "site: Vercel or Cloudflare API token; read from the environment only"  # noqa: S105
_BYPASS_HELP = "Vercel: Protection Bypass for Automation secret; read from the environment only"
_PROMETHEUS_TOKEN_HELP = "bearer token for the Prometheus; read from the environment only"  # noqa: S105
MODES = ("deploy", "rollback", "verify", "record")

INPUTS: tuple[InputSpec, ...] = (
    InputSpec(
        "mode",
        "deploy",
        "deploy: roll out a new image; rollback: redeploy an earlier one; verify: check that "
        "image is the live one, changing nothing; record: close a deployment record",
    ),
    InputSpec("image", "", "image reference with a tag or an @sha256: digest"),
    InputSpec("only-if-live", "", "change nothing unless this image is live (empty: no condition)"),
    InputSpec("namespace", "", "Kubernetes namespace of the Deployment"),
    InputSpec("deployment", "", "name of the Deployment"),
    InputSpec("container", "", "container to update (default: the Deployment's name)"),
    InputSpec("rollout-timeout", "5m", "how long the rollout may take (e.g. 90s, 5m)"),
    InputSpec("smoke-url", "", "http(s) URL that must answer 200 (empty: no smoke test)"),
    InputSpec("smoke-retries", "5", "smoke attempts after the first failed one (0-100)"),
    InputSpec("smoke-interval", "10s", "pause between smoke attempts"),
    InputSpec("smoke-timeout", "10s", "time limit of one smoke request"),
    InputSpec("expect-version", "", "text the smoke answer must show (empty: no check)"),
    InputSpec("kubeconfig-file", "", "kubeconfig file (default: the ambient KUBECONFIG)"),
    InputSpec("kubeconfig", "", _KUBECONFIG_HELP, secret=True, cli=False),
    InputSpec("environment", "", "environment name shown in the summary"),
    InputSpec("commit-time", "", "ISO-8601 time of the deployed commit, for the lead time"),
    InputSpec("lock-wait", "15m", "how long to wait for another deploy of the Deployment to end"),
    InputSpec("github-token", "", _TOKEN_HELP, secret=True, cli=False),
    InputSpec("commit", "", "commit the image was built from: its deployment record names it"),
    InputSpec("environment-url", "", "URL of the environment, shown on the deployment record"),
    InputSpec("record-open", "false", "true: leave the record in progress for mode record"),
    InputSpec("deployment-id", "", "mode record: the deployment record to close"),
    InputSpec("record-state", "", "mode record: success, failure or error"),
    InputSpec("record-description", "", "mode record: what the record's last status says"),
    InputSpec("target", "kubernetes", "kubernetes, vercel or cloudflare-pages: what is deployed"),
    InputSpec("site-project", "", "site: Vercel project ID or Cloudflare Pages project name"),
    InputSpec("site-account", "", "site: Vercel team or user ID, or Cloudflare account ID"),
    InputSpec("site-token", "", _SITE_TOKEN_HELP, secret=True, cli=False),
    InputSpec("site-cli-version", "", "site: exact version of the vercel or wrangler CLI"),
    InputSpec("site-directory", "", "Cloudflare Pages: the directory of built files to upload"),
    InputSpec("site-branch", "", "Cloudflare Pages: the branch the deployment is for"),
    InputSpec("site-production", "false", "Vercel: true promotes image to production"),
    InputSpec("site-bypass", "", _BYPASS_HELP, secret=True, cli=False),
    InputSpec("strategy", "rolling", "rolling: a rolling update; canary: a canary release first"),
    InputSpec("canary-traffic", "replicas", "replicas: by pod count; gateway: HTTPRoute weights"),
    InputSpec("canary-route", "", "canary-traffic gateway: the HTTPRoute to reweight"),
    InputSpec("canary-steps", "5", "percentages of traffic, comma-separated (e.g. 5,25)"),
    InputSpec("canary-pause", "10m", "how long each step runs, analysed, before the next"),
    InputSpec(
        "analysis", "", "JSON: prometheus, interval, on-no-data, metrics [{name, query, max|min}]"
    ),
    InputSpec("analysis-url", "", "the Prometheus base URL, when it is kept out of analysis"),
    InputSpec("analysis-token", "", _PROMETHEUS_TOKEN_HELP, secret=True, cli=False),
)

INPUTS_BY_NAME = {spec.name: spec for spec in INPUTS}
