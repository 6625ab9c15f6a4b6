"""Turn DOCX documents into page images the way Word readers see them: LibreOffice to PDF, pdftoppm to PNG.

For looking at the official-document layout (docs/documents.md shows pages made with it). Needs
LibreOffice (``soffice``) and poppler-utils (``pdftoppm``); .ci/run installs both.

Examples::

    .venv/bin/python scripts/docx_pages.py var/demo/reports/daily/2026-12-02/舆情日报-2026-12-02.docx --out /tmp/pages
    .venv/bin/python scripts/docx_pages.py a.docx b.docx --pages 1,4 --dpi 80 --colours 48 --out docs/documents

Each page is written as ``<stem>-<page>.png``; the paths are printed, one per line.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CONVERT_TIMEOUT_S = 180


def to_pdf(docx: Path, folder: Path) -> Path:
    """The DOCX as a PDF in ``folder``, converted by LibreOffice with a profile of its own (another soffice may be running)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        sys.exit("没有找到 LibreOffice（soffice）：apt-get install libreoffice-writer-nogui")
    profile = (folder / "lo-profile").resolve().as_uri()
    command = [
        soffice,
        f"-env:UserInstallation={profile}",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(folder),
        str(docx),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=CONVERT_TIMEOUT_S)
    pdf = folder / (docx.stem + ".pdf")
    if not pdf.is_file():
        sys.exit(f"LibreOffice 没有写出 PDF：{docx}")
    return pdf


def to_pngs(pdf: Path, out: Path, stem: str, pages: list[int] | None, dpi: int) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        sys.exit("没有找到 pdftoppm：apt-get install poppler-utils")
    written = []
    for page in pages or range(1, page_count(pdf) + 1):
        target = out / f"{stem}-{page}"
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", "-f", str(page), "-l", str(page), str(pdf), str(target)],
                       check=True, timeout=60)  # fmt: skip
        written.append(target.with_suffix(".png"))
    return written


def shrink(png: Path, colours: int) -> None:
    """Fewer colours (a palette PNG): pages of text and a few charts stay legible at a third of the size."""
    from PIL import Image  # Pillow comes with matplotlib

    with Image.open(png) as image:
        small = image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    small.save(png, optimize=True)


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True, timeout=60).stdout
    return next(int(line.split()[-1]) for line in info.splitlines() if line.startswith("Pages:"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docx", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "yuqing-pages")
    parser.add_argument("--pages", help="Pages to render, e.g. 1,4 (default: all).")
    parser.add_argument("--dpi", type=int, default=100)
    parser.add_argument("--name", action="append", help="File stem for each DOCX, in order (default: its own stem).")
    parser.add_argument("--colours", type=int, default=0, help="Reduce each page to this many colours (e.g. 48 for docs/).")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    pages = [int(page) for page in args.pages.split(",")] if args.pages else None
    with tempfile.TemporaryDirectory() as scratch:
        for index, docx in enumerate(args.docx):
            stem = args.name[index] if args.name and index < len(args.name) else docx.stem
            pdf = to_pdf(docx, Path(scratch))
            for path in to_pngs(pdf, args.out, stem, pages, args.dpi):
                if args.colours:
                    shrink(path, args.colours)
                print(path)


if __name__ == "__main__":
    main()
