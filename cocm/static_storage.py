"""Collected static files: hashed names and gzip copies, served by WhiteNoise."""

from typing import Any

from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage


class GzipManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's storage without the brotli copies.

    WhiteNoise writes `.br` files whenever the `brotli` module is importable; WeasyPrint
    (the PDF program report) brings it in through fontTools. At brotli's default quality
    `collectstatic` then took minutes (the API docs' and admin's bundles) at every
    `cocm serve --production`; gzip copies alone keep it to seconds.
    """

    def create_compressor(self, **kwargs: Any) -> Compressor:
        return super().create_compressor(**{**kwargs, "use_brotli": False})
