"""Helpers for the web interface's browser tests (the fixtures `browser` and `page` are in
herald/web/tests/browser/conftest.py): sign in through the form, take screenshots for the README."""

import os
import tempfile
from pathlib import Path

from herald.testing.factories import TEST_PASSWORD

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def sign_in_page(page, email: str, password: str | None = None) -> None:
    """Sign in through the form as a person would."""
    if "/signin" not in page.url:
        page.goto("/signin")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD if password is None else password)
    page.get_by_role("button", name="Sign in").click()


def screenshot(page, name: str, phone: bool = False) -> Path:
    """A full-page screenshot, `<name>.png` (`<name>-phone.png` at a phone's size): into docs/screenshots with
    HERALD_SCREENSHOTS=1 (to refresh the README's), else a temporary folder (the tests still take them)."""
    folder = (
        SCREENSHOTS if os.environ.get("HERALD_SCREENSHOTS") == "1" else Path(tempfile.gettempdir()) / "herald-shots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}{'-phone' if phone else ''}.png"
    if phone:
        page.set_viewport_size(PHONE)
    try:
        page.screenshot(path=str(target), full_page=True)
    finally:
        if phone:
            page.set_viewport_size(DESKTOP)
    return target
