"""The paths that trigger a service by default: its context, and its Dockerfile when that
lies outside the context (a change to the Dockerfile changes the image)."""

from __future__ import annotations

import json
from pathlib import Path

from ruamel.yaml import YAML

from cdgen.cli import main

DESCRIPTOR = """\
version: 1
name: shop
services:
  - name: cart
    image: { context: src/cart, dockerfile: docker/cart.Dockerfile, test: make test }
  - name: web
    image: { context: src/web, dockerfile: src/web/Dockerfile.prod, test: make test }
  - name: api
    image: { context: src/api, dockerfile: docker/api.Dockerfile, test: make test }
    paths: [src/api]
environments:
  - name: staging
    url: https://staging.example.com
    kubernetes: { namespace: staging }
"""


def _changes_paths(repo: Path) -> dict[str, list[str]]:
    cd = YAML(typ="safe").load((repo / ".github/workflows/cd.yml").read_text(encoding="utf-8"))
    (step,) = [s for s in cd["jobs"]["changes"]["steps"] if s.get("id") == "changes"]
    rows = json.loads(step["with"]["services"])
    return {row["service"]: row["paths"] for row in rows}


def test_a_dockerfile_outside_the_context_triggers_its_service(tmp_path: Path) -> None:
    (tmp_path / "cdgen.yml").write_text(DESCRIPTOR, encoding="utf-8")
    assert main(["generate", "--config", str(tmp_path / "cdgen.yml")]) == 0
    assert _changes_paths(tmp_path) == {
        "cart": ["src/cart", "docker/cart.Dockerfile"],
        "web": ["src/web"],  # its Dockerfile is inside its context
        "api": ["src/api"],  # paths given: taken as written
    }
