"""Readable API documentation at /api/docs, rendered on the server from the OpenAPI document.

Served by us rather than a JavaScript viewer from a CDN: it works without JavaScript, under the
strict CSP, and on a machine with no internet access.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from madoguchi.core.templating import render

router = APIRouter(include_in_schema=False)

METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/api/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    spec = request.app.openapi()
    html = render("api_docs.html", request=request, spec=spec, operations=list(_operations(spec)))
    return HTMLResponse(html)


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                found.append({"method": method.upper(), "path": path, **operation})
    return found
