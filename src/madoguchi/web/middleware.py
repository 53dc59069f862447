"""ASGI middleware: security headers on every response, and the language of each request."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from madoguchi.core import i18n

LANGUAGE_COOKIE = "lang"
# Machine clients choose a language with Accept-Language; pages (including /api/docs) use the
# cookie that the language switch sets, so a person sees one language everywhere.
JSON_PATHS = ("/api/v1/", "/api/openapi.json")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = "max-age=63072000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Adds the headers to every HTTP response; HSTS only when the request came over https."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        over_https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if over_https:
                    headers["strict-transport-security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LanguageMiddleware:
    """Chooses ja or en: the ``lang`` cookie, then Accept-Language on the API, then the default."""

    def __init__(self, app: ASGIApp, default: i18n.Language) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            i18n.set_language(self.language_of(scope))
        await self.app(scope, receive, send)

    def language_of(self, scope: Scope) -> i18n.Language:
        headers = Headers(scope=scope)
        chosen = i18n.parse_language(_cookie(headers, LANGUAGE_COOKIE))
        if chosen:
            return chosen
        if str(scope.get("path", "")).startswith(JSON_PATHS):
            return i18n.parse_language(headers.get("accept-language")) or self.default
        return self.default


def _cookie(headers: Headers, name: str) -> str | None:
    try:
        morsel = SimpleCookie(headers.get("cookie", "")).get(name)
    except CookieError:  # a malformed Cookie header is the client's problem, not a 500
        return None
    return morsel.value if morsel else None
