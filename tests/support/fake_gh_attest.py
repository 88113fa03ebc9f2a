"""``gh attestation verify`` for the fake gh: attestations come from its state file, checked
as gh checks them, and the result is printed in gh's ``--format json`` shape.

The shape is gh's ``[]*verification.AttestationProcessingResult`` (cli/cli,
pkg/cmd/attestation/verification/sigstore.go): ``{"attestation": {"bundle": ...},
"verificationResult": ...}``, where the verification result is sigstore-go's
``verify.VerificationResult`` (mediaType, signature.certificate, verifiedTimestamps,
verifiedIdentity, statement) and ``signature.certificate`` its ``certificate.Summary``:
certificateIssuer, subjectAlternativeName and the Fulcio extensions with their JSON tags
(``sourceRepositoryDigest``, ``sourceRepositoryRef``, ``buildSignerURI``, ...).

A state entry, per digest ("sha256:HEX"):
    {"repo": "OWNER/NAME", "signer": "https://HOST/OWNER/NAME/PATH@REF",
     "source_digest": "<commit>", "predicate_type": "https://slsa.dev/provenance/v1"}
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

ISSUER = "https://token.actions.githubusercontent.com"
CERT_ISSUER = "CN=sigstore-intermediate,O=sigstore.dev"
SLSA_V1 = "https://slsa.dev/provenance/v1"
SIGNER = re.compile(r"(https://[^/]+)/([^/]+)/([^/]+)/(.+)@(refs/.+)")


class VerifyFailed(Exception):
    """gh's failure: lines for stderr, then exit 1."""


def attestation(
    repo: str,
    source_digest: str,
    workflow: str = ".github/workflows/cd.yml",
    ref: str = "refs/heads/main",
    predicate_type: str = SLSA_V1,
    server: str = "https://github.com",
) -> dict[str, str]:
    """A state entry for an attestation made by ``repo``'s ``workflow`` at ``ref``
    (on GitHub Enterprise Server, ``server`` is its URL)."""
    signer = f"{server}/{repo}/{workflow}@{ref}"
    return {
        "repo": repo,
        "signer": signer,
        "source_digest": source_digest,
        "predicate_type": predicate_type,
    }


def certificate_summary(entry: dict[str, str]) -> dict[str, str]:
    found = SIGNER.fullmatch(entry["signer"])
    if found is None:
        raise ValueError(f"signer is https://HOST/OWNER/NAME/PATH@REF: {entry['signer']}")
    server, owner, name, path, ref = found.groups()
    repo_url = f"{server}/{entry['repo']}"
    run = f"{repo_url}/actions/runs/1/attempts/1"
    return {  # certificate.Summary: two fields, then the extensions in their Go order
        "certificateIssuer": CERT_ISSUER,
        "subjectAlternativeName": entry["signer"],
        "issuer": ISSUER,
        "githubWorkflowTrigger": "push",
        "githubWorkflowSHA": entry["source_digest"],
        "githubWorkflowName": path.rsplit("/", 1)[-1].removesuffix(".yml"),
        "githubWorkflowRepository": f"{owner}/{name}",
        "githubWorkflowRef": ref,
        "buildSignerURI": entry["signer"],
        "buildSignerDigest": entry["source_digest"],
        "runnerEnvironment": "github-hosted",
        "sourceRepositoryURI": repo_url,
        "sourceRepositoryDigest": entry["source_digest"],
        "sourceRepositoryRef": ref,
        "sourceRepositoryIdentifier": "1",
        "sourceRepositoryOwnerURI": f"{server}/{entry['repo'].split('/')[0]}",
        "sourceRepositoryOwnerIdentifier": "1",
        "buildConfigURI": entry["signer"],
        "buildConfigDigest": entry["source_digest"],
        "buildTrigger": "push",
        "runInvocationURI": run,
        "sourceRepositoryVisibilityAtSigning": "private",
    }


def statement(image: str, digest: str, entry: dict[str, str]) -> dict[str, Any]:
    """The in-toto statement, as protojson writes it (``_type`` first)."""
    summary = certificate_summary(entry)
    ref, repo_url = summary["sourceRepositoryRef"], summary["sourceRepositoryURI"]
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": image, "digest": {"sha256": digest.removeprefix("sha256:")}}],
        "predicateType": entry["predicate_type"],
        "predicate": {
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {"workflow": {"ref": ref, "repository": repo_url}},
                "resolvedDependencies": [
                    {
                        "uri": f"git+{repo_url}@{ref}",
                        "digest": {"gitCommit": entry["source_digest"]},
                    }
                ],
            },
            "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}},
        },
    }


def result(image: str, digest: str, entry: dict[str, str]) -> dict[str, Any]:
    told = statement(image, digest, entry)
    payload = base64.b64encode(json.dumps(told).encode()).decode()
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"tlogEntries": [], "timestampVerificationData": {}},
        "dsseEnvelope": {
            "payload": payload,
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": base64.b64encode(b"fake signature").decode()}],
        },
    }
    verification = {  # Go's field order: the embedded struct's fields, then the statement
        "mediaType": "application/vnd.dev.sigstore.verificationresult+json;version=0.1",
        "signature": {"certificate": certificate_summary(entry)},
        "verifiedTimestamps": [
            {
                "type": "Tlog",
                "uri": "https://rekor.sigstore.dev",
                "timestamp": "2024-01-01T00:00:00Z",
            }
        ],
        "verifiedIdentity": {
            "subjectAlternativeName": {"subjectAlternativeName": entry["signer"], "regexp": ""},
            "issuer": {"issuer": ISSUER, "regexp": ""},
        },
        "statement": told,
    }
    return {"attestation": {"bundle": bundle}, "verificationResult": verification}


def verify(
    state: dict[str, Any], image: str, digest: str, repo: str, identity: str, predicate: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """gh's steps: fetch by repository, filter by predicate type, check the signer.
    Returns the progress lines (stderr) and the results; raises VerifyFailed."""
    lines = [f"Loaded digest {digest} for oci://{image}@{digest}"]
    entries = [
        entry
        for entry in state.get("attestations", {}).get(digest, [])
        if entry["repo"].lower() == repo.lower()
    ]
    if not entries:
        lines.append(f"✗ No attestations found for subject {digest}")
        raise VerifyFailed(*lines, f"Error: no attestations found for digest {digest} in {repo}")
    lines.append(f"Loaded {len(entries)} attestation{'s' * (len(entries) > 1)} from GitHub API")
    entries = [entry for entry in entries if entry["predicate_type"] == predicate]
    if not entries:
        lines.append(f"✗ No attestations found with predicate type: {predicate}")
        raise VerifyFailed(*lines, "Error: no matching predicate found")
    for entry in entries:
        if entry["signer"] != identity:
            mismatch = f'expected SAN value "{identity}", got "{entry["signer"]}"'
            lines.append("✗ Sigstore verification failed")
            raise VerifyFailed(
                *lines,
                'Error: verifying with issuer "sigstore": failed to verify certificate identity:'
                f" no matching CertificateIdentity found, last error: {mismatch}",
            )
    lines.append("✓ Verification succeeded!")
    return lines, [result(image, digest, entry) for entry in entries]
