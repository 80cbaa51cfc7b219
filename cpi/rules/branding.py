"""The company's logo file (``CPI_COMPANY_LOGO``): which files may be served as one.

The survey pages show it from ``/brand/logo``; only a regular file with an image
suffix below ``LOGO_MAX_BYTES`` qualifies, and its type comes from the suffix, never
from the content, so a stray path cannot turn the address into a file server.
"""

from __future__ import annotations

from pathlib import Path

LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
LOGO_MAX_BYTES = 1024 * 1024


def logo_file(configured: object) -> tuple[Path, str] | None:
    """The logo's path and media type, or None when unset or not a usable image."""
    if not configured:
        return None
    path = Path(str(configured))
    media_type = LOGO_TYPES.get(path.suffix.lower())
    try:
        usable = path.is_file() and path.stat().st_size <= LOGO_MAX_BYTES
    except OSError:
        return None
    return (path, media_type) if media_type and usable else None
