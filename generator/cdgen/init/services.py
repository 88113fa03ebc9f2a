"""Which Dockerfile builds the image of which Deployment: the services of a repository.

Each Dockerfile is named by its folders (`src/cartservice/Dockerfile`: cartservice; one at
the root is the repository's own) and paired with the Deployment container that runs its
image, by the surest sign first:

1. the container's image is named like the service (`…/cartservice:v1`, `cartservice`), or,
   for the repository's own Dockerfile, is the repository's image (`ghcr.io/<owner>/<repo>`);
2. the Deployment is named like the service;
3. a container is named like the service.

A Deployment is paired with one Dockerfile at most. Deployments come by name: the same one
written in several folders (`kubernetes-manifests/`, `release/`) is one Deployment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from cdgen import rules
from cdgen.init.dockerfiles import DockerfileInfo
from cdgen.init.image_tests import image_name
from cdgen.init.manifests import Container, Deployment, image_score


@dataclass(frozen=True)
class Pairing:
    deployment: Deployment  # the first manifest that shows it
    container: Container
    reason: str  # why, for the comments of cdgen.yml: "its image is cartservice"


@dataclass(frozen=True)
class DockerfileGroup:
    name: str  # the service's name
    own: bool  # at the root: the repository's own image, named like the repository
    dockerfiles: tuple[DockerfileInfo, ...]  # the first builds it; the rest are variants

    @property
    def dockerfile(self) -> DockerfileInfo:
        return self.dockerfiles[0]

    @property
    def aside(self) -> bool:
        return self.dockerfile.aside


def group_dockerfiles(
    dockerfiles: tuple[DockerfileInfo, ...], deployments: tuple[Deployment, ...], repository: str
) -> list[DockerfileGroup]:
    """The Dockerfiles by the service their folders name (`repository` for the root's), in
    the order found. A variant (`Dockerfile.worker`) is a service of its own when a
    Deployment or an image is named like it."""
    named = {_key(c.image) for x in deployments for c in x.containers if c.image}
    named |= {_key(x.name) for x in deployments}
    groups: dict[str | None, list[DockerfileInfo]] = {}
    for dockerfile in dockerfiles:
        variant = dockerfile.variant
        name = variant if variant and _key(variant) in named else dockerfile.service_name
        key = None if name == repository else name
        if key in groups and groups[key][0].context != dockerfile.context:
            key = _distinct_name(dockerfile.context, set(groups) | {repository})
        groups.setdefault(key, []).append(dockerfile)
    return [
        DockerfileGroup(name or repository, name is None, tuple(found))
        for name, found in groups.items()
    ]


def _distinct_name(context: str, taken: set[str | None]) -> str:
    """A name for a Dockerfile in another folder named like an earlier one (`apps/cart`,
    `legacy/cart`): not a variant of it, but a service of its own, named by its folders."""
    parts = [p for p in PurePosixPath(context).parts if p != "."]
    label = rules.to_dns_label("-".join(parts[-2:])) or ""
    name = label if label[:1].isalpha() else f"service-{label}".rstrip("-")[:63].rstrip("-")
    found, number = name, 2
    while found in taken:
        found, number = f"{name[:58]}-{number}", number + 1
    return found


def _key(text: str) -> str:
    """A name as pairing compares it: the image's last part, without case or separators."""
    return re.sub(r"[^a-z0-9]", "", image_name(text)[0])


def pair_services(
    groups: list[DockerfileGroup], deployments: tuple[Deployment, ...], slug: str | None
) -> dict[str, Pairing]:
    """Each group's Deployment container, surest pairs first, one group per Deployment (two
    services setting images in one Deployment would roll each other back)."""
    usable = [x for x in deployments if rules.is_valid("name", x.name)]
    candidates: list[tuple[int, int, str, Pairing]] = []
    for order, group in enumerate(groups):
        for deployment in usable:
            found = rank_pairing(group, deployment, slug)
            if found is not None:
                candidates.append((-found[0], order, group.name, found[1]))
    paired: dict[str, Pairing] = {}
    taken: set[str] = set()
    for _, _, name, pairing in sorted(candidates, key=lambda c: (c[0], c[1])):
        if name not in paired and pairing.deployment.name not in taken:
            paired[name] = pairing
            taken.add(pairing.deployment.name)
    return paired


def rank_pairing(
    group: DockerfileGroup, deployment: Deployment, slug: str | None
) -> tuple[int, Pairing] | None:
    """How surely `deployment` runs the group's image (4 to 1), or None."""
    containers = [c for c in deployment.containers if rules.is_valid("name", c.name)]
    for container in containers:
        if container.image and runs_image_of(container.image, group, slug):
            return 4, Pairing(deployment, container, f"its image is {shown(container.image)}")
    if _key(deployment.name) == _key(group.name) and containers:
        container = max(containers, key=lambda c: likeness(c, group.name, slug))
        return 3, Pairing(deployment, container, "it is named like the service")
    for container in containers:
        if container.image and group.name in _words(container.image):
            return 2, Pairing(deployment, container, f"its image is {shown(container.image)}")
    for container in containers:
        if _key(container.name) == _key(group.name):
            return 1, Pairing(deployment, container, "its container is named like the service")
    return None


def runs_image_of(image: str, group: DockerfileGroup, slug: str | None) -> bool:
    if group.own and image_score(image, slug) > 0:
        return True
    return _key(image) == _key(group.name)


def likeness(container: Container, service: str, slug: str | None) -> tuple[bool, bool, bool]:
    """How much a container of the Deployment named like `service` looks like its image:
    an image whose name has the service's in it, then one of the repository's owner, then
    a container named like the service (`max` takes the first of equals)."""
    image = (container.image or "").lower()
    owner = slug.split("/", 1)[0].lower() if slug else None
    in_owner = owner is not None and f"/{owner}/" in f"/{image}"
    return service in _words(image), in_owner, _key(container.name) == _key(service)


def _words(image: str) -> set[str]:
    """The words of an image's last name part: `acme/platform-reports:2` → platform, reports."""
    return set(re.split(r"[^a-z0-9]+", image_name(image)[0])) - {""}


def shown(image: str) -> str:
    """An image reference for a comment: its digest left out."""
    return image.split("@", 1)[0]
