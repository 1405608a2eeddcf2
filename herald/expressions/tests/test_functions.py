from datetime import datetime

import pytest

from .helpers import make_context, render


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('upper("ann")', "ANN"),
        ("UPPER(contact.name)", "ANN"),
        ('lower("ÀNN")', "ànn"),
        ('title("ryan o\'NEIL 1st")', "Ryan O'Neil 1st"),
        ("title(contact)", "Ann"),
        ("text(3 = 3)", "true"),
        ("text(contact.groups)", "Testers, Males"),
        ('concat("a", 1, null, contact.name)', "a1Ann"),
        ('length("héllo")', "5"),
        ("length(contact.groups)", "2"),
        ("length(fields.nickname)", "0"),
        ("length(fields)", "4"),
        ("count(contact.groups)", "2"),
        ("text_length(1234)", "4"),
        ('word("bee cat dog", 0)', "bee"),
        ('word("bee.cat,dog", 1)', "cat"),
        ('word("bee.cat,dog", -1)', "dog"),
        ('word("bee.*cat,dog", 1, ".*=|")', "cat,dog"),
        ('word_count("Hi there, my friend!")', "4"),
        ('word_count("a|b||c", "|")', "3"),
        ('word_count("")', "0"),
        ('left("hello", 2)', "he"),
        ('left("hi", 10)', "hi"),
        ('right("hello", 3)', "llo"),
        ('right("hello", 0)', ""),
        ('trim("  hi  ")', "hi"),
        ('replace("a-b-c", "-", "+")', "a+b+c"),
        ('replace("a-b-c", "-", "+", 1)', "a+b-c"),
        ('replace("abc", "", "x")', "abc"),
    ],
)
def test_text_functions(expression, expected):
    assert render(f"@({expression})") == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('if(fields.age > 18, "adult", "child")', "adult"),
        ('if(fields.nickname, "has", "none")', "none"),
        ('if("false", 1, 2)', "2"),
        ('if(true, "ok", 1 / 0)', "ok"),
        ('default(fields.nickname, "friend")', "friend"),
        ('default(fields.missing, "friend")', "friend"),
        ('default(1 / 0, "n/a")', "n/a"),
        ('default(contact.name, "friend")', "Ann"),
        ("default(array_of_nothing, contact.groups)", "Testers, Males"),
        ('and(true, 1, "x")', "true"),
        ("and(true, 0)", "false"),
        ("and(false, 1 / 0)", "false"),
        ('or(false, 0, "yes")', "true"),
        ('or(false, "")', "false"),
        ("or(true, 1 / 0)", "true"),
        ("not(false)", "true"),
        ("not(contact.groups)", "false"),
        ("is_error(fields.missing)", "true"),
        ("is_error(contact.name)", "false"),
    ],
)
def test_logic_functions(expression, expected):
    assert render(f"@({expression})") == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("abs(-3.5)", "3.5"),
        ("round(2.5)", "3"),
        ("round(-2.5)", "-3"),
        ("round(3.14159, 2)", "3.14"),
        ("round_up(1.01)", "2"),
        ("round_down(1.99)", "1"),
        ("max(1, 5, 3)", "5"),
        ("min(4, fields.age, 30)", "4"),
        ("sum(1, 2, 3.5)", "6.5"),
        ("sum(array_scores)", "6"),
        ("max(array_scores)", "3"),
    ],
)
def test_number_functions(expression, expected):
    context = make_context()
    context["contact"]["array_scores"] = [1, 2, "3"]
    expression = expression.replace("array_scores", "contact.array_scores")
    assert render(f"@({expression})", context) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("format_date(contact.created_on)", "2024-05-01"),
        ('format_date(contact.created_on, "DD/MM/YYYY")', "01/05/2024"),
        ('format_date(contact.created_on, "D-M-YY")', "1-5-24"),
        ('format_date(contact.created_on, "EEEE, MMMM D")', "Wednesday, May 1"),
        ('format_date(contact.created_on, "EEE MMM")', "Wed May"),
        ('format_date("2010-05-10T19:50:00Z", "YYYY M DD")', "2010 5 10"),
        ("format_datetime(contact.created_on)", "2024-05-01 14:30"),
        ('format_datetime(contact.created_on, "YYYY-MM-DD hh:mm:ss AA")', "2024-05-01 02:30:05 PM"),
        ('format_datetime(contact.created_on, "h:mm aa")', "2:30 pm"),
        ('format_datetime(contact.created_on, "tt:mm:ss.fff Z")', "14:30:05.123 Z"),
        ('format_datetime(contact.created_on, "t ffffff ZZZ")', "14 123456 +00:00"),
        ('format_datetime(contact.created_on, "tt:mm Z", "America/Los_Angeles")', "07:30 -07:00"),
        ('format_datetime("2024-01-15T10:00:00", "tt:mm", "Africa/Kigali")', "12:00"),
    ],
)
def test_date_functions(expression, expected):
    assert render(f"@({expression})") == expected


def test_format_date_accepts_dates_and_local_datetimes():
    context = make_context(created_on=datetime.fromisoformat("2024-12-31T23:00:00-05:00"))
    assert render('@(format_date(contact.created_on, "YYYY-MM-DD"))', context) == "2024-12-31"
    assert render('@(format_datetime(contact.created_on, "YYYY-MM-DD tt Z"))', context) == "2024-12-31 23 -05:00"


@pytest.mark.parametrize(
    "expression",
    [
        'word("bee cat", 2)',
        'word("bee cat", 0.5)',
        'left("abc", -1)',
        'round(1, "x")',
        "max()",
        "max(contact.nothing_here)",
        'format_date("not a date")',
        'format_date(contact.created_on, "YYYY hh")',  # time in a date-only layout
        'format_date(contact.created_on, "Q")',
        'format_datetime(contact.created_on, "tt", "Mars/Olympus")',
        'format_datetime(contact.created_on, "tt", "../../etc/passwd")',
        'if(1 / 0, "a", "b")',
        "and(1 / 0, true)",
        'abs("x")',
    ],
)
def test_function_errors_render_empty(expression):
    assert render(f"[@({expression})]") == "[]"
