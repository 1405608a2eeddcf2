"""`python -m bench.child MODULE:FUNCTION ARGS_JSON RESULT_PATH`: run one benchmark step inside Django.

The environment (set by `bench.harness.run_child`) picks the data dir and database; the step's result, a JSON
object, is written to RESULT_PATH together with this process's peak RSS.
"""

import importlib
import json
import os
import resource
import sys
from pathlib import Path

import django

from herald import datadir


def main() -> None:
    target, args, result_path = sys.argv[1:4]

    datadir.ready()  # as `herald` would before its commands: settings only read the data dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herald.settings")

    django.setup()
    module_name, function_name = target.split(":")
    result = getattr(importlib.import_module(module_name), function_name)(**json.loads(args))
    # ru_maxrss is in KiB on Linux.
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(result_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
