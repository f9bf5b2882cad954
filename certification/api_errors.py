"""JSON errors for the API: every error is {"code", "message"} (+ "errors" for field problems).

* DRF exceptions (400/401/403/404/405/415/429) keep their status and get a stable
  `code` (DRF's error code: not_authenticated, permission_denied, not_found,
  throttled, invalid, parse_error …) and a Chinese `message`.
* Django's Http404 / PermissionDenied raised inside API views are mapped by DRF.
* Anything else is logged with its traceback and answered as a JSON 500
  {"code": "server_error"} without internals, never an HTML debug page.
* Unknown paths under /api/ answer a JSON 404 (`api_not_found`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

log = logging.getLogger("certification.api")

MESSAGES = {
    "not_authenticated": "请先登录（请求头 Authorization: Token …）",
    "authentication_failed": "登录凭证无效",
    "permission_denied": "没有权限",
    "not_found": "未找到",
    "method_not_allowed": "不支持该请求方法",
    "unsupported_media_type": "不支持该数据格式",
    "not_acceptable": "无法提供该格式",
    "throttled": "请求过于频繁，请稍后再试",
    "parse_error": "请求数据格式错误",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        log.exception("unhandled API error in %s", type(view).__name__ if view else "?", exc_info=exc)
        return Response({"code": "server_error", "message": "服务器内部错误，请稍后再试"},
                        status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    data = response.data
    code = getattr(exc, "default_code", "error")
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        detail = data["detail"]
        code = getattr(detail, "code", code) or code
        message = str(detail)
        # Keep DRF's specific text (e.g. a throttle wait time) but prefer Chinese for stock messages.
        if isinstance(exc, exceptions.APIException) and message == str(exc.default_detail):
            message = MESSAGES.get(str(code), message)
        response.data = {"code": str(code), "message": message}
    elif isinstance(data, dict) and {"code", "message"} <= set(data):
        pass  # a view already answered in the house shape
    else:
        response.data = {"code": "invalid", "message": "请求数据有误", "errors": data}
    return response


@csrf_exempt  # a POST to an unknown API path is a 404, not an HTML CSRF page
def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    return JsonResponse({"code": "not_found", "message": "没有这个接口"}, status=404)


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "机器可读的错误代码，如 not_found、throttled、invalid"},
        "message": {"type": "string", "description": "给人看的说明（中文）"},
        "errors": {"type": "object", "additionalProperties": True, "description": "字段错误（仅 400）"},
    },
    "required": ["code", "message"],
}
_ERROR_RESPONSES = {
    "400": "请求数据有误",
    "401": "未登录或凭证无效",
    "403": "没有权限",
    "404": "未找到",
    "429": "请求过于频繁",
}


def document_errors(result: dict[str, Any], generator: object, request: object, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every operation documents the JSON error shape."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, op in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = op.setdefault("responses", {})
            wanted = dict(_ERROR_RESPONSES)
            if "requestBody" in op:
                wanted["415"] = "不支持该数据格式"
            for code, text in wanted.items():
                responses.setdefault(code, {"description": text, "content": {"application/json": {"schema": ref}}})
    return result
