"""The sending worker as a child process of `herald serve`, so one command runs the whole of Herald."""

import contextlib
import ctypes
import signal
import subprocess
import sys
import threading
import time


def die_with_parent() -> None:
    """Linux: when this process's parent dies, even outright (SIGKILL), this process gets SIGTERM.

    Used so that `herald serve`'s worker, and the worker's own beat (tick scheduler) child, never linger alone.
    """
    with contextlib.suppress(OSError, AttributeError):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class WorkerSupervisor(threading.Thread):
    """Runs `herald worker` and starts it again whenever it exits (a crash, the kernel's OOM killer ...) until
    stopped: without it, `herald serve` would go on taking broadcasts that nothing sends."""

    FIRST_DELAY, MAX_DELAY = 1.0, 60.0  # seconds before a restart; doubled while the worker keeps dying at once
    HEALTHY_AFTER = 60.0  # a worker that ran this long resets the delay

    def __init__(self):
        super().__init__(name="herald-worker-supervisor", daemon=True)
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None

    def run(self) -> None:
        # This thread starts the worker and lives as long as it: the parent-death signal is tied to it.
        delay = self.FIRST_DELAY
        while True:
            with self.lock:
                if self.stopping.is_set():
                    return
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "herald.cli", "worker"], preexec_fn=die_with_parent
                )
            started = time.monotonic()
            code = self.process.wait()
            if self.stopping.is_set():
                return
            delay = self.FIRST_DELAY if time.monotonic() - started > self.HEALTHY_AFTER else delay
            print(f"herald: the sending worker exited ({code}); starting it again in {delay:g} s", file=sys.stderr)
            if self.stopping.wait(delay):
                return
            delay = min(delay * 2, self.MAX_DELAY)

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
            worker = self.process
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        self.join(timeout=5)


@contextlib.contextmanager
def embedded_worker():
    """The sending worker, kept running while the block runs, then stopped (gracefully, then killed after 15 s)."""
    supervisor = WorkerSupervisor()
    supervisor.start()
    try:
        yield supervisor
    finally:
        supervisor.stop()
