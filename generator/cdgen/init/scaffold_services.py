"""The `services:` list of a new cdgen.yml: one commented entry per detected service.

An entry writes only what differs from the defaults or was detected, and says beside each
value where it came from; what init found but cannot write (a test command the image
cannot run, a probe that is not HTTP) is shown as comments.
"""

from __future__ import annotations

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from cdgen.init.commented import add_comment, with_source
from cdgen.init.service_answers import ServiceAnswers

SHARED_IMAGE = (
    "\nWhat every service's image shares: each is built once per commit, tested inside\n"
    "itself, pushed tagged with the commit SHA, and deployed by its digest (never rebuilt)."
)
SERVICES = (
    "\nThe services, each built, tested and deployed only when its paths (default: its\n"
    "context) changed. Their Dockerfiles were found in the repository, and each paired\n"
    "with the Deployment whose container runs its image."
)
_WHOLE_REPOSITORY = "its context is the repository root: every change rebuilds it"


def build_services(services: tuple[ServiceAnswers, ...]) -> CommentedSeq:
    return CommentedSeq(build_service(service) for service in services)


def build_service(service: ServiceAnswers) -> CommentedMap:
    node = CommentedMap()
    node["name"] = service.name
    add_comment(
        node, "name", with_source(None, service.sources.get("name")).removeprefix("from "), 4
    )
    if service.paths:
        paths = CommentedSeq(service.paths)
        paths.fa.set_flow_style()
        node["paths"] = paths
        add_comment(node, "paths", _WHOLE_REPOSITORY, 4)
    node["image"] = build_service_image(service)
    if service.deployment is not None:
        node["kubernetes"] = build_service_kubernetes(service)
    else:
        node.yaml_set_comment_before_after_key(
            "image",
            before="no Deployment runs its image: cdgen updates the one named like it",
            indent=4,
        )
    if service.smoke_path is not None:
        smoke = CommentedMap([("path", service.smoke_path)])
        add_comment(smoke, "path", with_source(None, service.sources.get("smoke.path")), 6)
        node["smoke"] = smoke
    return node


def build_service_image(service: ServiceAnswers) -> CommentedMap:
    node = CommentedMap()
    if service.repository is not None:
        node["repository"] = service.repository
    node["context"] = service.context
    if service.dockerfile is not None:
        node["dockerfile"] = service.dockerfile
    if service.test is not None:
        node["test"] = service.test
        add_comment(node, "test", with_source(None, service.sources.get("image.test")), 6)
    if service.test_stage is not None:
        node["test-stage"] = service.test_stage
        source = service.sources.get("image.test-stage")
        add_comment(node, "test-stage", with_source(None, source), 6)
    if "image.test" in service.remarks:
        first = next(iter(node))
        node.yaml_set_comment_before_after_key(
            first, before=service.remarks["image.test"], indent=6
        )
    return node


def build_service_kubernetes(service: ServiceAnswers) -> CommentedMap:
    node = CommentedMap()
    node["deployment"] = service.deployment
    add_comment(
        node, "deployment", with_source(None, service.sources.get("kubernetes.deployment")), 6
    )
    node["container"] = service.container
    if "smoke.path" in service.remarks:
        add_comment(node, "container", service.remarks["smoke.path"], 6)
    return node
