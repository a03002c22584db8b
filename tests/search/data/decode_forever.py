"""Decode an image folder in worker processes that never finish, for tests to interrupt.

    DECODE_STARTED=FILE python -m tests.search.data.decode_forever FOLDER

Each worker touches FILE when it starts decoding, then sleeps. On KeyboardInterrupt this prints
the one line a command prints, and exits with 130.
"""

import os
import signal
import sys
import time
from pathlib import Path

from search.data import folder


def decode_forever(path: str, image_size: int, color: str) -> None:
    Path(os.environ["DECODE_STARTED"]).touch()
    time.sleep(3600)


def main() -> None:
    # Started by a test, the process may inherit an ignored SIGINT; a terminal gives Python's.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    folder.PARALLEL_FROM = 1
    folder._decode = decode_forever
    root = Path(sys.argv[1])
    try:
        folder.decode_folder(root, folder.list_images(root)[0], 28, "grayscale")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
