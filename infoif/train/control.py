"""A run's control state machine: statuses, the verbs that move between them, and the words
the user sees about them. Plain Python, no TensorFlow, no threads.

    idle --train--> running --pause--> paused --train/resume--> running
      |               |  \\--budget used--> finished --train--> running
      |               |---stop--> stopped --train--> running
      \\--step--> paused (one epoch, then paused again)
    running --loss not finite / error--> failed
    (a server or worker that went away) --> interrupted --train--> running (resumed)

Queued is the training service's word for a run waiting for a free worker.

The verbs are applied by whoever owns the run's training loop, between two
compiled calls, so that "paused" means no further epoch is recorded and
`step()` adds exactly one.
"""

from __future__ import annotations

from infoif.constants import MAX_BATCH_SIZE, MAX_LEARNING_RATE
from infoif.validate import int_in, positive_int, real_in

__all__ = [
    "STATUSES", "ACTIVE", "RESUMABLE", "Control", "check_epochs", "check_learning_rate",
    "check_batch_size", "BADGES",
]

STATUSES = ("idle", "queued", "running", "paused", "stopped", "finished", "failed", "interrupted")
ACTIVE = ("queued", "running", "paused")  # a worker (or the queue) holds the run
DONE = ("finished", "failed", "stopped")  # a run in one of these will not train again by itself
RESUMABLE = ("idle", "paused", "stopped", "finished", "interrupted", "failed")  # train() continues these

# The status badge of each status in the dashboard: (colour, word).
BADGES = {
    "idle": ("gray", "ready"),
    "queued": ("violet", "queued"),
    "running": ("green", "training"),
    "paused": ("orange", "paused"),
    "stopped": ("blue", "stopped"),
    "finished": ("blue", "finished"),
    "failed": ("red", "failed"),
    "interrupted": ("orange", "interrupted"),
}



def check_epochs(epochs):
    """An epoch budget: a positive integer, or None for "until stopped"."""
    return positive_int("epochs", epochs, allow_none=True)


def check_learning_rate(lr) -> float:
    return real_in("lr", lr, 0.0, MAX_LEARNING_RATE, open_low=True)


def check_batch_size(n) -> int:
    return int_in("batch_size", n, 1, MAX_BATCH_SIZE)


class Control:
    """The control state of one run. Not thread-safe: one owner applies every verb."""

    def __init__(self, status: str = "idle", learning_rate: float = 0.01, batch_size: int = 32):
        if status not in STATUSES:
            raise ValueError(f"`status` must be one of {list(STATUSES)}. Received: status={status!r}")
        self.status = status
        self.error: str | None = None
        self.budget: int | None = None  # epochs left; None: until stopped
        self.steps = 0  # epochs to run while paused (step())
        self.stop_requested = False  # roll back the epoch in progress
        self.learning_rate = check_learning_rate(learning_rate)
        self.batch_size = check_batch_size(batch_size)
        self.changed = False  # learning rate or batch size changed since the owner last applied them

    # ------------------------------------------------------------ verbs

    def train(self, epochs: int | None = None) -> None:
        """Trains `epochs` more epochs (None: until stopped); also continues a stopped,
        finished, interrupted or failed run (from the last finite epoch, whose weights a
        failure keeps). While running it only changes the budget."""
        epochs = check_epochs(epochs)
        self.error = None
        self.budget = epochs
        self.steps = 0
        self.stop_requested = False
        self.status = "running"

    def resume(self) -> None:
        """Continues a paused run with the budget it had (others: like train(None))."""
        if self.status in ("paused", "queued"):
            self.steps = 0
            self.status = "running"
        elif self.status != "running":
            self.train(None)

    def pause(self) -> None:
        if self.status in ("running", "queued"):
            self.status = "paused"
            self.steps = 0

    def step(self) -> None:
        """One more epoch, then paused. Does nothing while running."""
        if self.status == "running":
            return
        if self.status != "paused":
            self.budget = None
        self.error = None
        self.stop_requested = False
        self.steps += 1
        self.status = "paused"

    def stop(self) -> None:
        if self.status in ACTIVE:
            self.status = "stopped"
            self.stop_requested = True
            self.steps = 0

    def fail(self, message: str) -> None:
        self.status = "failed"
        self.error = message
        self.steps = 0

    def interrupt(self) -> None:
        """The process holding the run goes away; a later train() resumes it."""
        if self.status in ACTIVE:
            self.status = "interrupted"
            self.steps = 0

    def set_learning_rate(self, lr) -> None:
        self.learning_rate = check_learning_rate(lr)
        self.changed = True

    def set_batch_size(self, n) -> None:
        self.batch_size = check_batch_size(n)
        self.changed = True

    # ------------------------------------------------------------ for the owner

    @property
    def wants_work(self) -> bool:
        """Whether the owner should run the next call now."""
        if self.status == "running":
            return self.budget is None or self.budget > 0
        return self.status == "paused" and self.steps > 0

    @property
    def stepping(self) -> bool:
        return self.status == "paused" and self.steps > 0

    def epochs_allowed(self) -> int | None:
        """Most epochs the next call may record (None: no limit)."""
        if self.stepping:
            return 1
        return self.budget

    def epoch_done(self) -> None:
        """One epoch was recorded."""
        if self.stepping:
            self.steps -= 1
        elif self.budget is not None:
            self.budget -= 1
            if self.budget <= 0 and self.status == "running":
                self.status = "finished"

    def apply(self, verb: str, **kwargs) -> None:
        """Applies a verb by name (as a service or a thread's queue carries them)."""
        method = {"train": self.train, "resume": self.resume, "pause": self.pause, "step": self.step,
                  "stop": self.stop, "lr": self.set_learning_rate, "batch_size": self.set_batch_size}.get(verb)
        if method is None:
            raise ValueError(f"Unknown control verb. Received: verb={verb!r}")
        method(**kwargs)
