"""A command whose process gets a SIGTERM just after a folder's decode, while the data loads.

    python -m tests.search.data.term_after_decode optimize folder:PATH …

The folder decodes in the process pool, as a large folder does; the SIGTERM comes as the
decoded images are written to the cache, once the pool's own handling of it has ended.
"""

import os
import signal
import sys

import cli
from search.data import folder


def main() -> None:
    folder.PARALLEL_FROM = 1
    write_cache = folder.write_cache

    def terminated_first(*args) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        write_cache(*args)

    folder.write_cache = terminated_first
    sys.argv = ["cli.py", *sys.argv[1:]]
    cli.main()


if __name__ == "__main__":
    main()
