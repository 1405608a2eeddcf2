"""`python -m bench [--quick] [--only fanout,dryrun,delivery,single,api,...] [--skip-postgres] [--write]`

Runs the benchmarks and prints one table: each figure, the baseline measured in the same run, their ratio, the
target (bench/RESULTS.md lists them) and whether it is met. Everything runs on 127.0.0.1 in throwaway data dirs
and databases. PostgreSQL figures need a server where throwaway databases can be created:
HERALD_BENCH_POSTGRES_URL (or a PostgreSQL HERALD_DATABASE_URL, as `eval "$(bash .ci/services)"` sets).
"""

import argparse
import sys
import time

from . import (
    api,
    delivery,
    dryrun,
    end_to_end,
    expressions,
    fanout,
    flood,
    load,
    pause,
    providers,
    report,
    schedule,
    single,
    web,
    webhooks,
)
from .harness import BenchError, Row, postgres_available

BENCHMARKS = (
    "fanout",
    "dryrun",
    "delivery",
    "single",
    "api",
    "end_to_end",
    "expressions",
    "load",
    "flood",
    "schedule",
    "pause",
    "webhooks",
    "providers",
    "web",
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a minute or two")
    parser.add_argument(
        "--only",
        type=lambda value: [name.strip().replace("-", "_") for name in value.split(",") if name.strip()],
        default=list(BENCHMARKS),
        metavar="NAMES",
        help=f"comma-separated benchmarks to run, among {', '.join(BENCHMARKS)} (default: all)",
    )
    parser.add_argument(
        "--skip-postgres",
        action="store_true",
        help="fan-out, dry run, single message, scheduling, pause, load, web: SQLite only",
    )
    parser.add_argument("--write", action="store_true", help="write the results to bench/RESULTS.md")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}: choose among {', '.join(BENCHMARKS)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    kinds = ["sqlite"]
    if not args.skip_postgres and {"fanout", "dryrun", "single", "schedule", "pause", "web"} & set(args.only):
        reason = postgres_available()
        if reason:
            log(f"PostgreSQL skipped: {reason}")
        else:
            kinds.append("postgresql")
    steps = {  # in the table's order
        "fanout": lambda: fanout.run(kinds, args.quick, log),
        "dryrun": lambda: dryrun.run(kinds, args.quick, log),
        "delivery": lambda: delivery.run(args.quick, log),
        "single": lambda: single.run(kinds, args.quick, log),
        "api": lambda: api.run(args.quick, log),
        "end_to_end": lambda: end_to_end.run(args.quick, log),
        "expressions": lambda: expressions.run(args.quick, log),
        "load": lambda: load.run(args.quick, log, setups=("embedded",) if args.skip_postgres else load.SETUPS),
        "flood": lambda: flood.run(args.quick, log),
        "schedule": lambda: schedule.run(kinds, args.quick, log),
        "pause": lambda: pause.run(kinds, args.quick, log),
        "webhooks": lambda: webhooks.run(args.quick, log),
        "providers": lambda: providers.run(args.quick, log),
        "web": lambda: web.run(kinds, args.quick, log),
    }
    rows: list[Row] = []
    failed = False
    for name, step in steps.items():
        if name not in args.only:
            continue
        try:
            rows += step()
        except BenchError as exc:
            failed = True
            log(f"{name} failed: {exc}")
            rows.append(Row(name, "(did not run)", None, "", note=str(exc).splitlines()[0]))
    seconds = time.monotonic() - started
    print(report.text_table(rows))
    if args.write:
        command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
        log(f"wrote {report.write_results(rows, command.strip(), seconds)}")
    return 1 if failed or any(row.value is None for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
