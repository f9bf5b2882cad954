"""JSON errors for the API: {"code", "message", "detail"} on every 4xx."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    code = getattr(exc, "default_code", "error")
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        message = str(data["detail"])
        code = getattr(data["detail"], "code", code)
        response.data = {"code": code, "message": message}
    else:
        response.data = {"code": code if code != "invalid" else "invalid", "message": "请求数据有误", "errors": data}
    return response
