"""What a run did, as data: the summary and the step outputs are rendered from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cdgen.deploy.canary_report import CanaryReport
from cdgen.deploy.preflight import Finding

DEPLOYED = "deployed"
ROLLED_BACK = "rolled-back"
FAILED = "failed"
# only-if-live named an image that is no longer live: the environment was left as is.
SKIPPED = "skipped"
# mode verify: the image is the live one (and shows the version); nothing was changed.
VERIFIED = "verified"
# mode record: the deployment record was closed.
RECORDED = "recorded"
# What each mode's run ends with when everything went as asked.
SUCCESS = {"deploy": DEPLOYED, "rollback": ROLLED_BACK, "verify": VERIFIED, "record": RECORDED}


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    ok: bool
    detail: str


@dataclass
class Outcome:
    mode: str
    environment: str
    image: str
    result: str = FAILED
    previous_image: str = ""
    deployed_image: str = ""
    reason: str = ""
    degraded: bool = False
    # What to run by hand: the undo when degraded, or the check of an undo not waited for.
    manual_commands: list[str] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # The signal that cancelled the run (0: not cancelled).
    signal: int = 0
    # What was done to get back (a cancellation's undo, a failed rollback), for the summary.
    note: str = ""
    # An unexpected error (a bug), as "Type: message"; the run still ended in the undo path.
    crash: str = ""
    smoke: list[tuple[int, bool, str, float]] = field(default_factory=list)
    smoke_skipped: bool = False
    only_if_live: str = ""
    finished_at: datetime | None = None
    commit_time: datetime | None = None
    # The GitHub deployment record this run opened (None: none), and what became of it.
    deployment_id: int | None = None
    record: str = ""
    # What the summary calls what is deployed: a site's deployments are not images.
    kind: str = "image"
    canary: CanaryReport | None = None  # strategy canary: its steps, checks and decisions

    @property
    def succeeded(self) -> bool:
        """Deploy mode succeeds only when deployed; rollback mode when the image is back.
        A skip succeeds in both: leaving a newer image alone is what was asked."""
        return self.result in (SUCCESS.get(self.mode, DEPLOYED), SKIPPED)
