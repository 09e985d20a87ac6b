"""The HTTP access log with user data clipped: a long path or user agent stays one short line."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.api_input import clip

PATH_CLIP = 200


class AccessLog(AbstractAccessLogger):
    """``REMOTE "METHOD PATH HTTP/x.y" STATUS BYTES SECONDSs "AGENT"``, each field clipped."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write one line for an answered request."""
        version = f"{request.version.major}.{request.version.minor}"
        self.logger.info(
            '%s "%s %s HTTP/%s" %d %d %.3fs "%s"',
            request.remote or "-",
            clip(request.method, 20),
            clip(request.path_qs, PATH_CLIP),
            version,
            response.status,
            response.body_length,
            time,
            clip(request.headers.get("User-Agent", "-")),
        )

    @property
    def enabled(self) -> bool:
        """Whether the access logger writes at INFO (skips the work when it does not)."""
        return self.logger.isEnabledFor(logging.INFO)
