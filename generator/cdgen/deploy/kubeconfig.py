"""A kubeconfig given as content: a 0600 temporary file, removed afterwards, and the values
in it that must never be printed."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

# Keys of users[].user (clientcmd/api/v1 AuthInfo) that carry secrets. Certificates and the
# CA are public; usernames and cluster addresses are not secret either.
_USER_SECRETS = ("token", "password", "client-key-data")
_WORD = re.compile(r"[^\s\"',:{}\[\]]{4,}")


class KubeconfigFileError(Exception):
    """The temporary kubeconfig file could not be written; nothing was changed."""


@contextmanager
def kubeconfig_file(content: str, directory: str | None = None) -> Iterator[str]:
    """Yield the path of a private file holding ``content`` ('' when there is no content)."""
    if not content:
        yield ""
        return
    try:
        # mkstemp creates the file with mode 0600, readable by this user only.
        descriptor, path = tempfile.mkstemp(
            prefix="cdgen-kubeconfig-", suffix=".yaml", dir=directory
        )
    except OSError as error:
        where = directory or tempfile.gettempdir()
        raise KubeconfigFileError(f"cannot create a file in {where}: {error.strerror}") from None
    try:
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(content if content.endswith("\n") else content + "\n")
        except OSError as error:
            raise KubeconfigFileError(f"cannot write {path}: {error.strerror}") from None
        yield path
    finally:
        with suppress(FileNotFoundError):
            os.unlink(path)


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(values: list[Any]) -> list[str]:
    return [value for value in values if isinstance(value, str)]


def _user_secrets(user: dict[str, Any]) -> list[str]:
    found = [str(user[key]) for key in _USER_SECRETS if isinstance(user.get(key), str)]
    exec_config = _mapping(user.get("exec"))
    found += _strings(
        [_mapping(variable).get("value") for variable in _list(exec_config.get("env"))]
    )
    # An auth provider's config holds its tokens and client secret (id-token, refresh-token,
    # client-secret, access-token, …); every value in it is treated as one.
    provider = _mapping(_mapping(user.get("auth-provider")).get("config"))
    found += _strings(list(provider.values()))
    return found


def secret_values(config: dict[str, Any]) -> list[str]:
    """The secret-bearing values of a kubeconfig as ``kubectl config view --raw -o json``
    prints it (tokens, passwords, key data, exec env values, auth-provider config)."""
    found: set[str] = set()
    for entry in _list(config.get("users")):
        found.update(_user_secrets(_mapping(_mapping(entry).get("user"))))
    return sorted(value for value in found if value.strip())


def mask_words(text: str, content: str) -> str:
    """``text`` with every word of ``content`` masked: for kubectl's message about a
    kubeconfig it could not parse, whose secrets are therefore unknown."""
    for word in sorted(set(_WORD.findall(content)), key=len, reverse=True):
        text = text.replace(word, "***")
    return text
