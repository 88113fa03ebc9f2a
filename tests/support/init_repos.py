"""Real repositories for the `cdgen init` tests (detection, scaffold, GitHub setup)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

NODE_MANIFEST = """\
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 3000}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:latest
        - name: log-shipper
          image: fluent/fluent-bit:3
"""


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def git_init(root: Path, remote: str | None = None, branch: str = "main") -> None:
    """A real repository (no commits needed) with `remote` as origin."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "--quiet", "--initial-branch", branch, str(root)], check=True)
    if remote is not None:
        subprocess.run(["git", "-C", str(root), "remote", "add", "origin", remote], check=True)


def make_node_service(root: Path) -> Path:
    """A Node service with a root Dockerfile, e2e tests and multi-document k8s manifests."""
    git_init(root, "https://github.com/Acme/Api.git")
    write(root, "Dockerfile", 'FROM node:22-alpine\nCOPY . .\nCMD ["node", "server.js"]\n')
    package = {
        "name": "@acme/api",
        "scripts": {"test": "node --test", "test:e2e": "playwright test", "start": "node ."},
        "engines": {"node": ">=20"},
    }
    write(root, "package.json", json.dumps(package, indent=2) + "\n")
    write(root, ".nvmrc", "v22.11.0\n")
    write(root, "k8s/app.yaml", NODE_MANIFEST)
    return root


def make_python_service(root: Path) -> Path:
    """A Python service with pytest configuration and its Dockerfile in docker/."""
    git_init(root, "git@github.com:acme/Billing_Service.git")
    write(root, "docker/Dockerfile", "FROM python:3.12-slim\nCOPY . /app\n")
    write(
        root,
        "pyproject.toml",
        '[project]\nname = "billing"\nversion = "1.0"\n\n[tool.pytest.ini_options]\n'
        'testpaths = ["tests"]\n',
    )
    write(root, "tests/test_app.py", "def test_ok():\n    assert True\n")
    write(
        root,
        "deploy/billing.yml",
        "kind: Deployment\napiVersion: apps/v1\nmetadata: {name: billing, namespace: finance}\n"
        "spec: {template: {spec: {containers: [{name: billing}]}}}\n",
    )
    return root
