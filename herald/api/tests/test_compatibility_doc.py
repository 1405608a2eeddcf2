"""docs/COMPATIBILITY.md stays true of the code: every test it names exists, every `Cn` the code cites is in it."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "COMPATIBILITY.md"
TEST_REF = re.compile(r"`(herald/[\w/]+\.py)::(\w+)`")
CITATION = re.compile(r"COMPATIBILITY\.md,? (C\d+)")


def python_files():
    """Herald's code and tests, this file aside (its patterns would find themselves)."""
    here = Path(__file__).resolve()
    return [path for path in (ROOT / "herald").rglob("*.py") if "migrations" not in path.parts and path != here]


def test_every_pinning_test_it_names_exists():
    named = TEST_REF.findall(DOC.read_text())
    assert len(named) > 20
    missing = []
    for path, name in named:
        tree = ast.parse((ROOT / path).read_text())
        functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
        if name not in functions:
            missing.append(f"{path}::{name}")
    assert missing == []


def test_every_difference_the_code_cites_is_in_it():
    entries = set(re.findall(r"^### (C\d+)\.", DOC.read_text(), flags=re.MULTILINE))
    cited = {
        (path.relative_to(ROOT).as_posix(), number)
        for path in python_files()
        for number in CITATION.findall(path.read_text())
    }
    assert cited, "the code cites docs/COMPATIBILITY.md"
    assert sorted((path, number) for path, number in cited if number not in entries) == []


def test_no_code_cites_a_reference_document_outside_the_repository():
    citing = [
        path.relative_to(ROOT).as_posix()
        for path in python_files()
        if re.search(r"§ ?\d|the reference's\b|as the reference does", path.read_text())
    ]
    assert citing == []
