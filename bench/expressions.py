"""Render one parsed broadcast template for 100,000 contacts and print renders/second (no assertions).

python bench/expressions.py  (alone), or as part of `python -m bench --only expressions`, where it is measured
against the same text built by a hand-written f-string (the floor: no parsing, no evaluation).
"""

import time
from datetime import UTC, datetime, timedelta

from bench.harness import Row
from herald.expressions import parse

RENDERS = 100_000
TEMPLATE = (
    "Hi @contact.first_name, your code is @fields.code. "
    '@(if(fields.age >= 18, "Reply YES", "Ask a parent")) by @(format_date(fields.due, "DD/MM/YYYY")). '
    "Questions? Write to help@example.com or call @globals.hotline."
)


def contexts(count: int) -> list[dict]:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    built = []
    for number in range(count):
        fields = {"code": f"C{number:06d}", "age": 10 + number % 60, "due": start + timedelta(days=number % 365)}
        contact = {
            "__default__": f"Person {number}",
            "name": f"Person {number}",
            "first_name": "Person",
            "fields": fields,
        }
        built.append(
            {
                "contact": contact,
                "fields": fields,
                "globals": {"hotline": "+1 206 555 1212"},
                "urns": {"tel": f"tel:+1206555{number % 10_000:04d}"},
            }
        )
    return built


def by_hand(context: dict) -> str:
    """The same text as TEMPLATE, written as Python: what the template costs over plain string building."""
    fields = context["fields"]
    action = "Reply YES" if fields["age"] >= 18 else "Ask a parent"
    return (
        f"Hi {context['contact']['first_name']}, your code is {fields['code']}. "
        f"{action} by {fields['due'].strftime('%d/%m/%Y')}. "
        f"Questions? Write to help@example.com or call {context['globals']['hotline']}."
    )


def renders_per_second(render, data: list[dict], renders: int) -> float:
    started = time.perf_counter()
    for number in range(renders):
        render(data[number % len(data)])
    return renders / (time.perf_counter() - started)


def run(quick: bool, log):
    template = parse(TEMPLATE)
    data = contexts(1_000)
    if template.render(data[0]) != by_hand(data[0]):
        raise AssertionError(f"the hand-written baseline differs: {by_hand(data[0])!r}")
    renders = RENDERS // 10 if quick else RENDERS
    log(f"expressions: {renders:,} renders")
    herald = renders_per_second(template.render, data, renders)
    bare = renders_per_second(by_hand, data, renders)
    return [Row("expressions", "template renders/s", herald, "/s", bare, "f-string")]


def main() -> None:
    parse_started = time.perf_counter()
    template = parse(TEMPLATE)
    parse_seconds = time.perf_counter() - parse_started
    data = contexts(1_000)

    started = time.perf_counter()
    for number in range(RENDERS):
        template.render(data[number % len(data)])
    seconds = time.perf_counter() - started

    print(f"parse: {parse_seconds * 1e6:.0f} us")
    print(f"{RENDERS} renders in {seconds:.2f} s: {RENDERS / seconds:,.0f} renders/second")
    print("sample:", template.render(data[0]))


if __name__ == "__main__":
    main()
