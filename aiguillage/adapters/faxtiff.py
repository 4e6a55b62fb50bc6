"""The PDF rendition as a fax: multi-page TIFF, CCITT Group 4, 1 bit, 204 x 196 dpi ("fine" fax resolution).

pypdfium2 rasterises each page at 204 dpi; the height is then scaled to 196
dpi (fax pixels are not square) and the width padded or cut to the 1728
pixels of a standard fax line. A hard threshold, not dithering, keeps
small text legible at this resolution.
"""

from __future__ import annotations

import io

FAX_DPI = (204, 196)
#: Pixels per scan line of an ITU-T T.4 A4/Letter fax.
FAX_WIDTH = 1728
#: Grey level under which a pixel prints black.
THRESHOLD = 160
#: A fax of an invoice longer than this is refused: something is wrong with the rendition.
MAX_PAGES = 200


def pdf_to_fax_tiff(pdf: bytes) -> tuple[bytes, int]:
    """(TIFF bytes, page count) for a PDF; ValueError when the PDF cannot be read or is too long."""
    import pypdfium2
    from PIL import Image

    try:
        document = pypdfium2.PdfDocument(pdf)
    except pypdfium2.PdfiumError as exc:
        raise ValueError(f"cannot read the PDF to fax: {exc}") from exc
    try:
        if len(document) > MAX_PAGES:
            raise ValueError(f"{len(document)} pages is more than a fax should carry ({MAX_PAGES})")
        pages = []
        for index in range(len(document)):
            page = document[index]
            try:
                bitmap = page.render(scale=FAX_DPI[0] / 72, grayscale=True)
                grey = bitmap.to_pil().convert("L")
            finally:
                page.close()
            height = round(grey.height * FAX_DPI[1] / FAX_DPI[0])
            grey = grey.resize((grey.width, height), Image.Resampling.LANCZOS)
            line = Image.new("L", (FAX_WIDTH, height), 255)
            line.paste(grey.crop((0, 0, min(grey.width, FAX_WIDTH), height)),
                       (max(0, (FAX_WIDTH - grey.width) // 2), 0))
            pages.append(line.point(lambda v: 255 if v >= THRESHOLD else 0).convert("1", dither=Image.Dither.NONE))
    finally:
        document.close()
    if not pages:
        raise ValueError("the PDF to fax has no pages")
    out = io.BytesIO()
    pages[0].save(out, format="TIFF", save_all=True, append_images=pages[1:], compression="group4", dpi=FAX_DPI)
    return out.getvalue(), len(pages)
