"""The WeasyPrint side of :mod:`cpi.scorecards.pdf`, imported only when a PDF is rendered.

WeasyPrint takes a large share of a cold start to import, so the app and the commands
never import this module; the renderer (a forkserver child) does.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any

from weasyprint.urls import URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

from cpi.scorecards.pdf import ASSET_BASE, LOGO_URL


class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]
    """Serves ``ASSET_BASE/static/<path>`` from the static folder and the logo; refuses the rest."""

    def __init__(self, static_dir: str, logo_path: str | None = None) -> None:
        super().__init__(allowed_protocols=("https",), allow_redirects=False)
        self.static_dir = static_dir
        self.logo_path = logo_path
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        path: str | None = None
        if url == LOGO_URL and self.logo_path:
            path = self.logo_path
        elif url.startswith(ASSET_BASE + "static/") and "?" not in url and "#" not in url:
            path = safe_join(self.static_dir, url[len(ASSET_BASE + "static/") :])
        if path is None or not os.path.isfile(path):
            self.refused.append(url[:200])
            raise ValueError(f"refused: {url[:200]!r} is not one of the app's static files")
        mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, Path(path).read_bytes(), {"Content-Type": mime})
