"""Errors shared by every cnnsearch package; only cli.py turns them into exit codes."""


class CnnsearchError(Exception):
    """A failure with a message written for the person at the keyboard."""

    exit_code = 1


class UsageError(CnnsearchError):
    """Bad usage or bad input: the message says what is wrong and how to fix it."""

    exit_code = 2


class RunError(CnnsearchError):
    """A failure at run time: unreachable database, unreadable dataset."""

    exit_code = 1


class StorageUnreachable(RunError):
    """The storage did not answer (down, restarting, a network fault); a worker may wait."""


class TrialFailed(Exception):
    """This trial cannot produce a result (a spec that cannot be built, a loss that turned NaN).
    The trial is recorded FAIL with the reason and the study goes on; it never reaches cli.py."""


class CnnsearchWarning(UserWarning):
    """Something the person should know that does not stop the run (cli.py prints one line)."""
