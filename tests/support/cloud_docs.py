"""The README's cloud commands, rendered by the code `cdgen init` prints them with, for one
example descriptor per cloud (``python3 tests/support/action_docs.py`` rewrites them; a test
fails while one is stale)."""

from __future__ import annotations

from cdgen.descriptor import parse_descriptor
from cdgen.init.cloud_setup import cloud_commands
from cdgen.model import build_pipeline
from cdgen.stamp import Stamp

PROVIDER = "projects/123456789012/locations/global/workloadIdentityPools/github/providers/github"
EXAMPLES = {
    "aws": """\
image:
  registry: 123456789012.dkr.ecr.eu-west-1.amazonaws.com
  repository: acme/api
  login:
    aws: { role: "arn:aws:iam::123456789012:role/cdgen-api-push", region: eu-west-1 }
environments:
  - name: production
    url: https://example.com
    kubernetes:
      namespace: production
      eks:
        cluster: prod
        region: eu-west-1
        role: "arn:aws:iam::123456789012:role/cdgen-api-deploy-production"
""",
    "google": f"""\
image:
  registry: europe-west1-docker.pkg.dev
  repository: acme-prod/containers/api
  login:
    gcp:
      workload-identity-provider: {PROVIDER}
      service-account: cdgen-push@acme-prod.iam.gserviceaccount.com
environments:
  - name: production
    url: https://example.com
    kubernetes:
      namespace: production
      gke:
        cluster: prod
        location: europe-west1
        project: acme-prod
        workload-identity-provider: {PROVIDER}
        service-account: cdgen-deploy@acme-prod.iam.gserviceaccount.com
""",
    "azure": """\
image:
  registry: acmeprod.azurecr.io
  repository: api
  login:
    azure:
      client-id: 0f8fad5b-d9cb-469f-a165-70867728950e
      tenant-id: 7c9e6679-7425-40de-944b-e07fc1f90ae7
      subscription-id: 6ba7b810-9dad-11d1-80b4-00c04fd430c8
environments:
  - name: production
    url: https://example.com
    kubernetes:
      namespace: production
      aks:
        cluster: aks-prod
        resource-group: rg-prod
        client-id: 1b4e28ba-2fa1-11d2-883f-0016d3cca427
        tenant-id: 7c9e6679-7425-40de-944b-e07fc1f90ae7
        subscription-id: 6ba7b810-9dad-11d1-80b4-00c04fd430c8
""",
    "docker-hub": """\
image:
  registry: docker.io
  repository: acmeinc/api
  login: { username-secret: DOCKERHUB_USERNAME, password-secret: DOCKERHUB_TOKEN }
environments:
  - name: production
    url: https://example.com
    kubernetes: { namespace: production }
""",
}


def markers(cloud: str) -> tuple[str, str]:
    return f"<!-- cloud-{cloud}:start -->", f"<!-- cloud-{cloud}:end -->"


def render_example(cloud: str) -> str:
    """The example's descriptor and the commands init prints for it, as Markdown."""
    descriptor = "version: 1\nname: api\n" + EXAMPLES[cloud]
    data = parse_descriptor(descriptor.encode(), "cdgen.yml").data
    lines = cloud_commands(build_pipeline(data, Stamp(None, None)), "acme/api")
    body = EXAMPLES[cloud]
    return f"```yaml\n{body}```\n\n```sh\n" + "\n".join(lines) + "\n```\n"
