"""Draw the EPUB's cover, book/_static/cover.png (run it again after a change).

    .venv/bin/python tools/make_cover.py

The cover is the favicon's three waves, the title and the subtitle, in the
fonts of the printed book (Debian's fonts-texgyre).
"""

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
FONTS = Path("/usr/share/texmf/fonts/opentype/public/tex-gyre")
WIDTH, HEIGHT = 1600, 2400
DARK, LIGHT, GREEN = "#1c1f24", "#f2f4f7", "#7fb08a"


def wave(draw: ImageDraw.ImageDraw, top: int, colour: str) -> None:
    """One of the three waves: a round pen drawn along a sine across the cover."""
    for x in range(260, 1341):
        y = top + 70 * math.sin((x - 260) / 1080 * 2 * math.pi)
        draw.ellipse((x - 23, y - 23, x + 23, y + 23), fill=colour)


def main() -> None:
    image = Image.new("RGB", (WIDTH, HEIGHT), DARK)
    draw = ImageDraw.Draw(image)
    for top, colour in ((520, GREEN), (760, LIGHT), (1000, GREEN)):
        wave(draw, top, colour)
    title = ImageFont.truetype(str(FONTS / "texgyreheros-bold.otf"), 190)
    subtitle = ImageFont.truetype(str(FONTS / "texgyreheros-regular.otf"), 74)
    draw.text((WIDTH // 2, 1500), "Twisted Poetry", font=title, fill=LIGHT, anchor="mm")
    for i, line in enumerate(("Asynchronous programming in Python,", "taught through Twisted")):
        draw.text((WIDTH // 2, 1720 + i * 100), line, font=subtitle, fill="#b9c0ca",
                  anchor="mm")
    image.save(ROOT / "book" / "_static" / "cover.png", optimize=True)


if __name__ == "__main__":
    main()
