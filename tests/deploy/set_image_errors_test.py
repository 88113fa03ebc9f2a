"""Look, don't assume: when kubectl set image reports an error, the engine reads the live
image again before saying what is live, and rolls back a new image that went live anyway."""

from __future__ import annotations

from support.sandbox import GOOD, image

from .conftest import Deploy, Sandbox


def test_set_image_error_after_the_image_changed_rolls_back(
    deploy: Deploy, sandbox: Sandbox
) -> None:
    # The API server applied the patch, then kubectl timed out waiting for the answer.
    sandbox.update(set_image_times_out=True)
    result = deploy("--image", image("v2"))
    assert result.code == 1, result.log
    assert result.outputs == {
        "result": "rolled-back",
        "previous-image": GOOD,
        "deployed-image": GOOD,
        "deployment-id": "",
    }
    assert sandbox.image() == GOOD
    assert "kubectl set image failed (exit 1), but ghcr.io/acme/api:v2 went live: rolling back" in (
        result.log
    )
    assert "may still be processing the request" in result.log
    assert "| Check live image | " in result.summary
    assert "still in place" not in result.log + result.summary


def test_set_image_error_without_a_change_changes_nothing(deploy: Deploy, sandbox: Sandbox) -> None:
    sandbox.update(set_image_fails=True)
    result = deploy("--image", image("v2"))
    assert result.code == 1
    assert result.outputs == {
        "result": "failed",
        "previous-image": GOOD,
        "deployed-image": GOOD,
        "deployment-id": "",
    }
    # Under the lock: read, set image (refused), read again to look; then the lock is freed.
    assert sandbox.verbs() == ["get", "annotate", "get", "set image", "get", "get", "annotate"]
    assert sandbox.lock() is None
    assert f"{GOOD} is still live, nothing was changed" in result.log
