"""Loaded by pytest before Django's settings (`-p herald.pytest_env` in pyproject): a test run gets its own data dir,
so it never writes queued tasks, media or a secret key into the ./var of a developer's real Herald."""

import os
import tempfile

from herald import datadir

os.environ["HERALD_DATA_DIR"] = tempfile.mkdtemp(prefix="herald-test-")
datadir.ready()
