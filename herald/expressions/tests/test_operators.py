import pytest

from .helpers import render


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2", "3"),
        ("fields.age + 10", "33"),
        ('"4" * fields.score', "30"),
        ("3 - 5", "-2"),
        ("3 * 2.5", "7.5"),
        ("4 / 2", "2"),
        ("3 / 2", "1.5"),
        ("10 / 3", "3.3333333333333333"),
        ("2 ^ 8", "256"),
        ("4 ^ 0.5", "2"),
        ("0.1 + 0.2", "0.3"),
        ("-fields.age", "-23"),
        ("--3", "3"),
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("2 * 3 ^ 2", "18"),
        ("2 ^ 3 ^ 2", "64"),  # left-associative, as Excellent
        ("-2 ^ 2", "4"),  # negation binds tighter than ^, as Excellent
        ("10 - 4 - 3", "3"),
        ("12 / 2 / 3", "2"),
        ("fields.nickname + 1", "1"),  # null counts as 0
    ],
)
def test_arithmetic(expression, expected):
    assert render(f"@({expression})") == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 = 1", "true"),
        ('1 = "1"', "true"),
        ("1.0 = 1", "true"),
        ('"a" = "A"', "false"),
        ('contact.name = "Ann"', "true"),
        ("1 != 2", "true"),
        ('"x" != "x"', "false"),
        ("2 < 3", "true"),
        ("3 < 3", "false"),
        ("3 <= 3", "true"),
        ("4 > 3", "true"),
        ("3 >= 4", "false"),
        ('fields.age >= "18"', "true"),
        ("1 + 1 = 2", "true"),
        ("1 < 2 = 2 > 1", "true"),
        ("true", "true"),
        ("FALSE", "false"),
        ("null", ""),
    ],
)
def test_comparisons_and_literals(expression, expected):
    assert render(f"@({expression})") == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('"hello" & " " & contact.name', "hello Ann"),
        ('"a" & null', "a"),
        ('"n=" & 1 + 2', "n=3"),
        ('"a" & 1 = 1', "atrue"),  # & binds loosest
        ('"say \\"hi\\""', 'say "hi"'),
        ('"back\\slash"', "back\\slash"),
    ],
)
def test_concatenation_and_strings(expression, expected):
    assert render(f"@({expression})") == expected


@pytest.mark.parametrize(
    "expression",
    [
        '"abc" + 1',
        "true + 1",
        '"foo" > "bar"',
        "1 / 0",
        "contact.groups * 2",
        "(-8) ^ 0.5",
        "10 ^ 1001",
        "9 ^ 9 ^ 9 ^ 9 ^ 9",
        "contact.nope = 1",
        "1 2",
        "[1]",
        "a.",
    ],
)
def test_operator_errors_render_empty(expression):
    assert render(f"[@({expression})]") == "[]"
