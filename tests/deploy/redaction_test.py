"""The secret values of a kubeconfig, read from its structure (kubectl config view's JSON),
and the masking of kubectl's message about a kubeconfig it could not parse."""

from __future__ import annotations

from cdgen.deploy.kubeconfig import mask_words, secret_values


def test_secret_values_come_from_the_structure_only() -> None:
    config = {
        "clusters": [
            {
                "name": "prod",
                "cluster": {"server": "https://k8s", "certificate-authority-data": "Q0E="},
            }
        ],
        "users": [
            {"name": "a", "user": {"token": "t0ken", "username": "bob", "password": "pw!"}},
            {
                "name": "b",
                "user": {"exec": {"command": "x", "env": [{"name": "K", "value": "v4l"}]}},
            },
            {
                "name": "c",
                "user": {"auth-provider": {"name": "oidc", "config": {"id-token": "idt"}}},
            },
            {"name": "d", "user": None},
            "garbage",
        ],
        "contexts": [{"name": "production", "context": {"user": "a"}}],
    }
    assert secret_values(config) == ["idt", "pw!", "t0ken", "v4l"]
    assert secret_values({"users": None}) == []


def test_mask_words_hides_every_word_of_the_content() -> None:
    message = 'error loading "/tmp/k": yaml: line 3: found token s3cr3t-tok near user'
    assert mask_words(message, "user:\n  token: s3cr3t-tok\n") == (
        'error loading "/tmp/k": yaml: line 3: found *** *** near ***'
    )
