"""Screenshots of the workbench for the README, at phone (390x844) and desktop (1280x800) width.

Seeds the sample county and serves the workbench exactly as the browser tests
do (``tests/browserdesk.py``), signs in as each role in the system's headless
Chromium, and saves full-page PNGs: the login page, a unit's case list, a case
page (signed for and started, so the answer form shows), the leaders' overview,
the office's warnings queue and the page of the first warning's event (its first three screens).

Example::

    .venv/bin/python scripts/screenshots.py                   # into docs/screenshots/
    .venv/bin/python scripts/screenshots.py --out /tmp/shots

It prints the path of every image it writes. Chromium is found as the tests
find it (``YUQING_CHROMIUM``, or ``chromium`` on PATH).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from browserdesk import DESKTOP, PHONE, find_chromium, launch_chromium, new_page, seed_county, serve, sign_in  # noqa: E402
from yuqing_core.web.app import case_url  # noqa: E402

SIZES = {"phone": PHONE, "desktop": DESKTOP}


def shoot(page: Page, out: Path, name: str, size: str, *, max_screens: int | None = None) -> None:
    """The whole page, or its first ``max_screens`` screens (an event with dozens of items is very long)."""
    path = out / f"{name}-{size}.png"
    viewport = page.viewport_size or PHONE
    height = int(page.evaluate("document.documentElement.scrollHeight"))
    if max_screens is not None:
        height = min(height, viewport["height"] * max_screens)
    page.screenshot(path=path, full_page=True, clip={"x": 0, "y": 0, "width": viewport["width"], "height": height})
    print(path)


def take(browser: Browser, base_url: str, accounts_unit: str, leader: str, analyst: str, case_number: str,
         out: Path) -> None:  # fmt: skip
    for size, viewport in SIZES.items():
        page = new_page(browser, viewport)
        page.goto(f"{base_url}/login")
        shoot(page, out, "login", size)
        sign_in(page, base_url, accounts_unit)
        shoot(page, out, "unit-cases", size)
        page.goto(base_url + case_url(case_number))
        shoot(page, out, "case", size)
        page.context.close()

        page = new_page(browser, viewport)
        sign_in(page, base_url, leader)
        shoot(page, out, "leader", size)
        page.context.close()

        page = new_page(browser, viewport)
        sign_in(page, base_url, analyst)
        page.goto(f"{base_url}/warnings")
        shoot(page, out, "warnings", size)
        page.locator("li.warning a.title").first.click()
        page.wait_for_load_state()
        shoot(page, out, "event", size, max_screens=3)
        page.context.close()


def sign_for_and_start(browser: Browser, base_url: str, name: str, case_number: str) -> None:
    """The unit's first two steps on the case, through the page as a member takes them."""
    page = new_page(browser)
    sign_in(page, base_url, name)
    page.goto(base_url + case_url(case_number))
    for button in ("签收", "开始办理"):
        page.get_by_role("button", name=button).click()
        page.wait_for_load_state()
    page.context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="folder for the PNG files")
    args = parser.parse_args()
    executable = find_chromium()
    if executable is None:
        sys.exit("没有找到 Chromium：apt-get install chromium，或设置 YUQING_CHROMIUM")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="yuqing-screenshots-") as home:
        county = seed_county(Path(home))
        with serve(county) as base_url, sync_playwright() as playwright:
            browser = launch_chromium(playwright, executable)
            sign_for_and_start(browser, base_url, county.accounts.unit_a, county.walk_case)
            take(browser, base_url, county.accounts.unit_a, county.accounts.leader, county.accounts.analyst, county.walk_case,
                 args.out)  # fmt: skip
            browser.close()
        county.db.dispose()


if __name__ == "__main__":
    main()
