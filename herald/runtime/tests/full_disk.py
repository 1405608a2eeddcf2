"""A real full disk for tests: a small tmpfs mounted on a folder, then filled to the last byte.

    with small_filesystem(data_dir / "queue") as disk:   # skips the test if this machine refuses the mount
        disk.fill()                                      # the next write anyone makes there gets ENOSPC
        ...
        disk.free()

Mounting needs root (CI runs as root); elsewhere the test is skipped, saying why.
"""

import contextlib
import errno
import os
import subprocess
from pathlib import Path

import pytest

FILLER = "filler"


class SmallFilesystem:
    def __init__(self, path: Path):
        self.path = path

    def fill(self) -> None:
        """Take every free byte: big writes first, then smaller ones down to a single byte."""
        fd = os.open(self.path / FILLER, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            size = 1 << 20
            while size:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    size //= 2
        finally:
            os.close(fd)

    def free(self) -> None:
        (self.path / FILLER).unlink(missing_ok=True)

    def files(self) -> list[Path]:
        """What is on it besides the filler, folders excluded."""
        return sorted(p for p in self.path.rglob("*") if p.is_file() and p.name != FILLER)


@contextlib.contextmanager
def small_filesystem(path: Path, size: str = "16m"):
    path.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "herald-test", str(path)]
    try:
        mounted = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        pytest.skip("a small file system to fill can't be mounted here: no mount command")
    if mounted.returncode != 0:
        pytest.skip(f"a small file system to fill can't be mounted here: {mounted.stderr.strip() or 'refused'}")
    try:
        yield SmallFilesystem(path)
    finally:
        # Lazy: a process of the test that still holds a file there doesn't keep the mount alive.
        subprocess.run(["umount", "--lazy", str(path)], check=False)
