"""The process tree as Linux's /proc shows it, for tests that count what a command left behind."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def descendants(pid: int) -> list[int]:
    """The processes below `pid`: its children, theirs, and so on."""
    return [p for child in children(pid) for p in (child, *descendants(child))]
