"""The sending worker as a child process of `herald serve`, so one command runs the whole of Herald."""

import contextlib
import ctypes
import signal
import subprocess
import sys


def die_with_parent() -> None:
    """Linux: when this process's parent dies, even outright (SIGKILL), this process gets SIGTERM.

    Used so that `herald serve`'s worker, and the worker's own beat (tick scheduler) child, never linger alone.
    """
    with contextlib.suppress(OSError, AttributeError):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def embedded_worker():
    worker = subprocess.Popen([sys.executable, "-m", "herald.cli", "worker"], preexec_fn=die_with_parent)
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
