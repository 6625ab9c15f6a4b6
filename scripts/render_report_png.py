"""Render a sample report (or any HTML file) with headless Chromium: PNG screenshots and an A4 PDF.

For looking at the documents the way readers do: on a phone (420 px wide),
on a desktop, and printed on A4. Nothing is written inside the repository
unless you ask for it; the default output folder is under /tmp.

Examples::

    .venv/bin/python scripts/render_report_png.py                       # the sample daily report
    .venv/bin/python scripts/render_report_png.py --sample special --out /tmp/yq
    .venv/bin/python scripts/render_report_png.py --html var/reports/daily-2026-11-28.html
    .venv/bin/python scripts/render_report_png.py --templates config/templates   # with your templates

It prints the paths of what it wrote. Phone screenshots are taken once for
the whole page and once per section (a copy of the page showing only that
``<section id=...>``; scrolling to an anchor is not reliable in headless
Chromium), so each part can be read at full size. With poppler-utils
installed it also reports the PDF's page count and size and renders its
first pages as PNG.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from yuqing_core.reports.render import Renderer
from yuqing_core.reports.samples import SAMPLES

CHROMIUM = "/usr/bin/chromium"
PHONE_SECTION = (420, 1600)
PHONE_FULL_HEIGHT = 9000
DESKTOP = (1280, 6000)
CHROMIUM_TIMEOUT_S = 90
PDF_PAGES_AS_PNG = 3


def chromium(url: str, profile: Path, *options: str) -> None:
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        "--force-device-scale-factor=1", "--virtual-time-budget=3000", f"--user-data-dir={profile}", *options, url,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False)
    if result.returncode != 0:
        sys.exit(f"chromium failed ({result.returncode}):\n{result.stderr[-2000:]}")


def screenshot(html: Path, out: Path, size: tuple[int, int], profile: Path) -> Path:
    chromium(html.resolve().as_uri(), profile, f"--screenshot={out}", f"--window-size={size[0]},{size[1]}")
    return out


def section_page(html: Path, section: str, out: Path) -> Path:
    """A copy of the page that shows only one section (preview only; the document itself is untouched)."""
    only = f"<style>.doc > :not(#{section}) {{ display: none !important; }}</style></head>"
    out.write_text(html.read_text(encoding="utf-8").replace("</head>", only, 1), encoding="utf-8")
    return out


def print_pdf(html: Path, out: Path, profile: Path) -> Path:
    chromium(html.resolve().as_uri(), profile, f"--print-to-pdf={out}", "--no-pdf-header-footer", "--print-to-pdf-no-header")
    return out


def pdf_report(pdf: Path, out_dir: Path) -> list[Path]:
    """Page count and size (pdfinfo), first pages as PNG (pdftoppm), when poppler-utils is installed."""
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False).stdout
        for line in info.splitlines():
            if line.startswith(("Pages:", "Page size:")):
                print(f"  {line}")
    else:
        print("  (pdfinfo not installed: apt-get install poppler-utils)")
    if not shutil.which("pdftoppm"):
        return []
    prefix = out_dir / f"{pdf.stem}-page"
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", str(PDF_PAGES_AS_PNG), str(pdf), str(prefix)], check=False)
    return sorted(out_dir.glob(f"{prefix.name}-*.png"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", default="daily", choices=sorted(SAMPLES), help="sample document to render (default: daily)")
    parser.add_argument("--html", type=Path, help="an HTML file to screenshot instead of a sample")
    parser.add_argument("--templates", type=Path, help="a templates folder laid over the package's")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "yuqing-render", help="output folder")
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    if args.html:
        html = args.html
        name = html.stem
    else:
        name = args.sample
        html = args.out / f"{name}.html"
        html.write_text(Renderer(args.templates).html(SAMPLES[name]()), encoding="utf-8")
    sections = re.findall(r'<section id="([\w-]+)"', html.read_text(encoding="utf-8"))

    written = [html]
    with tempfile.TemporaryDirectory(prefix="yuqing-chromium-") as profile:
        profile_dir = Path(profile)
        written.append(screenshot(html, args.out / f"{name}-phone.png", (PHONE_SECTION[0], PHONE_FULL_HEIGHT), profile_dir))
        for section in sections:
            page = section_page(html, section, args.out / f"{name}-section-{section}.html")
            written.append(screenshot(page, args.out / f"{name}-phone-{section}.png", PHONE_SECTION, profile_dir))
        written.append(screenshot(html, args.out / f"{name}-desktop.png", DESKTOP, profile_dir))
        pdf = print_pdf(html, args.out / f"{name}.pdf", profile_dir)
        written.append(pdf)
    print(f"{pdf}:")
    written += pdf_report(pdf, args.out)
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
