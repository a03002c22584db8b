"""A study-wide deadline in wall-clock UTC: stored with the study, obeyed by every worker.

The deadline lives in the study user attr `cnnsearch_deadline` (ISO-8601, UTC), so workers on
different machines, started at different times, stop at the same moment. Between trials,
`should_start` refuses a trial that could not finish its first epoch in the time left; during a
trial, `search.callbacks.DeadlineCallback` stops training between two batches and the trial is
recorded PRUNED.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import optuna

from errors import UsageError
from search.vocabulary import (
    CONTINUES_ATTR,
    DEADLINE_ATTR,
    FIRST_EPOCH_ATTR,
    SEARCH_UNTIL_ATTR,
    STOPPED_BY_ATTR,
)

# The share of a time limit kept to train the winner on (FLAML's retrain_full="budget"): a search
# beats "train one good model for the whole time" only if its best also gets that training.
RESERVE = 0.25
MAX_TIMEOUT = 366 * 24 * 3600.0
FORMAT_HINT = "an ISO-8601 time with a zone, like 2026-12-01T18:00Z or 2026-12-01T19:00+01:00"


class DeadlineReached(optuna.TrialPruned):
    """Training stopped because the study's deadline came; Optuna records the trial PRUNED."""


def now() -> float:
    """Seconds since the epoch (wall clock, comparable across machines); tests replace it."""
    return time.time()


def parse_deadline(text: str) -> datetime:
    """`2026-12-01T18:00Z` (or any ISO-8601 time with a zone) as an aware UTC datetime."""
    text = text.strip()
    try:  # Python 3.10's fromisoformat does not read a trailing Z
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    except ValueError:
        raise UsageError(f"--deadline {text!r} is not a time; give {FORMAT_HINT}") from None
    if when.tzinfo is None:
        raise UsageError(f"--deadline {text!r} has no time zone; give {FORMAT_HINT}")
    return when.astimezone(UTC)


def resolve(timeout: float | None, deadline: str | None, started: float) -> datetime | None:
    """The deadline that `--timeout S` (counted from `started`) or `--deadline TIME` asks for."""
    if timeout is not None and deadline is not None:
        raise UsageError("give --timeout or --deadline, not both")
    if timeout is not None:
        if not 0 < timeout <= MAX_TIMEOUT:  # also refuses nan
            raise UsageError(
                f"--timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT:.0f} "
                f"(a year), got {timeout}"
            )
        return datetime.fromtimestamp(started + timeout, UTC)
    return None if deadline is None else parse_deadline(deadline)


def read_deadline(study: optuna.Study) -> datetime | None:
    """The study's stored deadline, or None when it has none."""
    text = study.user_attrs.get(DEADLINE_ATTR)
    return None if text is None else datetime.fromisoformat(text)


def set_deadline(study: optuna.Study, when: datetime | None) -> None:
    """Store `when` as the study's deadline, the search ending RESERVE of the time before it."""
    until = None if when is None else when.timestamp() - RESERVE * max(when.timestamp() - now(), 0)
    study.set_user_attr(SEARCH_UNTIL_ATTR, until)
    study.set_user_attr(DEADLINE_ATTR, None if when is None else when.isoformat())


def search_until(study: optuna.Study) -> float | None:
    """When the study stops searching (seconds since the epoch); None without a deadline."""
    return study.user_attrs.get(SEARCH_UNTIL_ATTR)


def apply_deadline(study: optuna.Study, asked: datetime | None) -> tuple[datetime | None, str]:
    """Store the deadline an `optimize` run asks for and say what the study's deadline now is.

    A run that asks for none keeps a deadline still ahead (it joins a timed study) and clears
    one that has passed (it resumes a study whose timed run is over).
    """
    if asked is not None:
        set_deadline(study, asked)
        return asked, f"deadline {show_when(asked)}"
    stored = read_deadline(study)
    if stored is None:
        return None, ""
    if stored.timestamp() > now():
        return stored, f"deadline {show_when(stored)}, set by an earlier run"
    set_deadline(study, None)
    return None, f"the study's deadline {show_when(stored)} has passed; running without one"


def expected_first_epoch(study: optuna.Study) -> float | None:
    """Median seconds from a trial's start to the end of its first epoch (build and compile
    included) over the study's trials so far; None without history.

    A trial the deadline stopped inside its first epoch counts with the time it ran, a lower
    bound; without it, a study whose first trial never finished an epoch would start another
    trial in the last second.
    """
    seconds = []
    for t in study.get_trials(deepcopy=False):
        if CONTINUES_ATTR in t.user_attrs:  # trains a saved model on: no build, no first epoch
            continue
        if FIRST_EPOCH_ATTR in t.user_attrs:
            seconds.append(t.user_attrs[FIRST_EPOCH_ATTR])
        elif t.user_attrs.get(STOPPED_BY_ATTR) == "deadline" and t.duration is not None:
            seconds.append(t.duration.total_seconds())
    return statistics.median(seconds) if seconds else None


def should_start(study: optuna.Study, deadline: datetime | None) -> bool:
    """Whether a new trial may start: the time left covers its expected first epoch."""
    if deadline is None:
        return True
    left = deadline.timestamp() - now()
    expected = expected_first_epoch(study)
    return left > 0 and (expected is None or left > expected)


def show_when(when: datetime | float) -> str:
    """`when` in UTC, and how far ahead it lies (or that it passed)."""
    if isinstance(when, float):
        when = datetime.fromtimestamp(when, UTC)
    left = when.timestamp() - now()
    ahead = f"in {timedelta(seconds=round(left))}" if left >= 0 else "passed"
    return f"{when:%Y-%m-%d %H:%M:%S} UTC ({ahead})"
