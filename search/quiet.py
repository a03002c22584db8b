"""Keep TensorFlow's and absl's log lines off the user's terminal, unless debugging.

TensorFlow prints on its own: C++ start-up notices while it is imported (absl's "All log
messages before absl::InitializeLog() is called…", CPU-feature and oneDNN notices, CUDA library
probing), then Python warnings such as "… triggered tf.function retracing". The C++ libraries
write straight to file descriptor 2, before TensorFlow reads `TF_CPP_MIN_LOG_LEVEL`, so that
variable alone does not stop them; the import is therefore run with descriptor 2 pointed at
/dev/null. oneDNN itself stays on (`TF_ENABLE_ONEDNN_OPTS=0` would change the speed).

`CNNSEARCH_DEBUG=1` leaves every line in place.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import sys
from collections.abc import Iterator
from types import ModuleType

DEBUG_ENV = "CNNSEARCH_DEBUG"
NOISY_PACKAGES = ("tensorflow",)  # whose first import writes C++ notices to descriptor 2
CHATTY_LOGGERS = ("tensorflow", "jax._src.xla_bridge")  # Python loggers kept to errors


def debug_enabled() -> bool:
    """Whether `CNNSEARCH_DEBUG` asks for every log line (set and not 0/false/no)."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def quiet_tensorflow() -> None:
    """Silence TensorFlow's and absl's start-up lines and warnings for this process and the
    workers it starts, unless `CNNSEARCH_DEBUG` is on. Call it before anything imports Keras.

    Example:
        >>> quiet_tensorflow()
        >>> import keras  # no "absl::InitializeLog" or oneDNN lines on the terminal
    """
    if debug_enabled():
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # inherited by worker processes
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    with contextlib.suppress(ImportError):  # absl-py comes with TensorFlow, not with JAX
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)  # Keras' saving warnings
    if not any(isinstance(finder, _SilentImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SilentImport(NOISY_PACKAGES))


class _SilentImport(importlib.abc.MetaPathFinder):
    """Finds the noisy packages as the path finder does, with a loader that runs their import
    with descriptor 2 pointed at /dev/null."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _SilentLoader(spec.loader)
        return spec


class _SilentLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # The package keeps its own loader (for its resources and submodules).
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        with _descriptor_2_dropped():
            self.loader.exec_module(module)


@contextlib.contextmanager
def _descriptor_2_dropped() -> Iterator[None]:
    """Descriptor 2 points at /dev/null inside; Python's own stderr is flushed on both sides."""
    with contextlib.suppress(ValueError, OSError):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (a daemon): nothing to protect
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
        yield
    finally:
        with contextlib.suppress(ValueError, OSError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
