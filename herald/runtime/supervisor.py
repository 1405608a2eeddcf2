"""The sending worker as a child process of `herald serve`, so one command runs the whole of Herald."""

import contextlib
import ctypes
import os
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
    """Runs `herald worker` (or, given `args`, another `herald` command) and starts it again whenever it exits (a
    crash, the kernel's OOM killer ...) until stopped: without it, `herald serve` would go on taking broadcasts that
    nothing sends, and `herald worker` would fan them out with nothing to deliver them (its delivery pool).

    `stop` asks it to stop (SIGTERM) and kills it after `stop_timeout` seconds."""

    FIRST_DELAY, MAX_DELAY = 1.0, 60.0  # seconds before a restart; doubled while the worker keeps dying at once
    HEALTHY_AFTER = 60.0  # a worker that ran this long resets the delay

    def __init__(self, args: list[str] | None = None, name: str = "sending worker", stop_timeout: float = 15.0):
        super().__init__(name=f"herald-supervisor-{name}", daemon=True)
        self.args = args or ["worker"]
        self.what = name
        self.stop_timeout = stop_timeout
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self.owner_pid = os.getpid()

    def run(self) -> None:
        # This thread starts the worker and lives as long as it: the parent-death signal is tied to it.
        delay = self.FIRST_DELAY
        while True:
            with self.lock:
                if self.stopping.is_set():
                    return
                # Its own session: signals meant for the server's process group are not the worker's; it is stopped
                # by `stop`, exactly once.
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "herald.cli", *self.args], preexec_fn=die_with_parent, start_new_session=True
                )
            started = time.monotonic()
            code = self.process.wait()
            if self.stopping.is_set():
                return
            delay = self.FIRST_DELAY if time.monotonic() - started > self.HEALTHY_AFTER else delay
            print(f"herald: the {self.what} exited ({code}); starting it again in {delay:g} s", file=sys.stderr)
            if self.stopping.wait(delay):
                return
            delay = min(delay * 2, self.MAX_DELAY)

    def in_forked_child(self) -> bool:
        # gunicorn forks its web workers from the process running this supervisor; when one of them exits, its
        # copy of the stack unwinds through `embedded_worker` too. Only the process that started the worker may
        # stop it.
        return os.getpid() != self.owner_pid

    def stop_soon(self) -> None:
        """Begin stopping without waiting (called from the web server's shutdown); `stop` finishes it."""
        if self.in_forked_child():
            return
        with self.lock:
            self.stopping.set()
            if self.process is not None and self.process.poll() is None:
                self.process.terminate()

    def stop(self) -> None:
        if self.in_forked_child():
            return
        with self.lock:
            self.stopping.set()
            worker = self.process
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=self.stop_timeout)
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
