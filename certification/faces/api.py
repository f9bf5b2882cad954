"""REST API for the mobile app: start a session (challenge), submit frames (verdict), read a verdict.

Every refusal is {"code", "message"} with a 4xx status; no input gives a 5xx.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFilesSent
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from certification.models import Role

from . import engine, services
from .models import Consent, FaceAttempt, Mode

NONCE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class FaceApiError(APIException):
    def __init__(self, code: str, message: str, status_code: int = 400) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code


ErrorSerializer = inline_serializer("FaceError", {"code": serializers.CharField(), "message": serializers.CharField()})
ERRORS = {s: OpenApiResponse(ErrorSerializer) for s in (400, 403, 404, 409, 429)}


class SessionStartSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=Mode.choices, required=False, help_text="self（本人）或 proxy（代他人）")
    consent = serializers.BooleanField(required=False, default=False, help_text="同意采集人脸用于本次认证")
    consent_id = serializers.IntegerField(required=False, min_value=1, max_value=2**62,
                                          help_text="网页端已记录的授权编号")
    id_number = serializers.CharField(required=False, max_length=18, allow_blank=True)
    name = serializers.CharField(required=False, max_length=64, allow_blank=True)
    relationship = serializers.CharField(required=False, max_length=32, allow_blank=True)


class CaptureSerializer(serializers.Serializer):
    fps = serializers.IntegerField()
    chunk_frames = serializers.IntegerField(help_text="每攒够这么多张就上传一次")
    poll_ms = serializers.IntegerField(help_text="每隔多少毫秒问一次下一个动作")
    max_frames = serializers.IntegerField()
    max_frame_bytes = serializers.IntegerField()


class SessionSerializer(serializers.Serializer):
    session_id = serializers.CharField()
    prompts_count = serializers.IntegerField(help_text="动作个数；动作本身要到服务器发出时才能知道")
    expires_at = serializers.DateTimeField()
    prompt_url = serializers.CharField()
    frames_url = serializers.CharField()
    capture = CaptureSerializer()


class PromptSerializer(serializers.Serializer):
    step = serializers.IntegerField(help_text="0：还没发出动作；之后是第几个动作")
    of = serializers.IntegerField()
    prompt = serializers.CharField(allow_blank=True)
    text = serializers.CharField()
    done = serializers.BooleanField(help_text="拍摄结束：把最后一批照片带 done=1 上传")


class FramesSerializer(serializers.Serializer):
    frames = serializers.ListField(child=serializers.FileField(allow_empty_file=True, use_url=False),
                                   allow_empty=True, required=False,
                                   help_text="刚拍下的一小批 JPEG/PNG 照片（原始画面，不要镜像），按拍摄顺序")
    done = serializers.BooleanField(required=False, default=False, help_text="最后一批：提交核验")


class ChunkSerializer(serializers.Serializer):
    received = serializers.IntegerField()


class VerdictSerializer(serializers.Serializer):
    attempt_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["pending", "passed", "failed"])
    reason = serializers.CharField(allow_blank=True)
    message = serializers.CharField()
    valid_until = serializers.DateField(allow_null=True)
    exhausted = serializers.BooleanField()
    tries_left = serializers.IntegerField()
    result_url = serializers.CharField()


def _role_check(request: Request, mode: str) -> None:
    role = getattr(request.user, "role", None)
    if mode == Mode.SELF and (role != Role.PENSIONER or request.user.pensioner_id is None):
        raise FaceApiError("forbidden", "只有退休人员本人可以进行本人认证。", 403)
    if mode == Mode.PROXY and role != Role.RELATIVE:
        raise FaceApiError("forbidden", "只有已登记的亲属账户可以代他人认证。", 403)


def _denied(exc: services.FaceDenied) -> FaceApiError:
    return FaceApiError(exc.code, exc.message, exc.status)


def verdict_payload(attempt: FaceAttempt) -> dict[str, Any]:
    v = services.verdict_for(attempt)
    return {
        "attempt_id": attempt.pk, "status": v.status, "reason": v.reason, "message": v.message,
        "valid_until": v.valid_until, "exhausted": v.exhausted, "tries_left": v.tries_left,
        "result_url": reverse("faces:result", args=[attempt.pk]),
    }


class SessionStartView(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=SessionStartSerializer, responses={201: SessionSerializer, **ERRORS},
                   summary="开始一次人脸认证：服务器随后一个一个地发出随机动作（每人同时只有一个）")
    def post(self, request: Request) -> Response:
        try:
            data = request.data
        except (ParseError, SuspiciousOperation, RequestDataTooBig):
            raise FaceApiError("bad_request", "请求数据有误。") from None
        ser = SessionStartSerializer(data=data)
        if not ser.is_valid():
            raise FaceApiError("invalid", "请求数据有误。")
        d = ser.validated_data
        ua = request.headers.get("User-Agent", "")
        try:
            if d.get("consent_id"):
                consent = Consent.objects.filter(pk=d["consent_id"], user=request.user).select_related("pensioner").first()
                if consent is None or timezone.localdate(consent.given_at) != timezone.localdate():
                    raise FaceApiError("no_consent", "请先阅读并同意授权说明。")
                _role_check(request, consent.mode)
            else:
                mode = d.get("mode") or Mode.SELF
                _role_check(request, mode)
                if not d.get("consent"):
                    raise FaceApiError("no_consent", "请先阅读并同意授权说明（consent 需为 true）。")
                if mode == Mode.SELF:
                    pensioner = request.user.pensioner
                    relationship = ""
                else:
                    relationship = (d.get("relationship") or "").strip()
                    if not relationship:
                        raise FaceApiError("invalid", "请填写您与老人的关系。")
                    pensioner = services.proxy_target_find(helper=request.user, id_number=d.get("id_number", ""),
                                                           name=d.get("name", ""))
                    services.proxy_quota_check(helper=request.user, pensioner=pensioner)
                consent = services.consent_record(user=request.user, pensioner=pensioner, mode=mode,
                                                  helper_relationship=relationship, channel="api", user_agent=ua)
            session = services.session_start(user=request.user, consent=consent)
        except services.FaceDenied as exc:
            raise _denied(exc) from None
        body = {
            "session_id": session.nonce,
            "prompts_count": len(session.schedule),
            "expires_at": session.expires_at,
            "prompt_url": reverse("api:faces-prompt", args=[session.nonce]),
            "frames_url": reverse("api:faces-frames", args=[session.nonce]),
            "capture": {
                "fps": settings.FACE_CAPTURE_FPS, "chunk_frames": CHUNK_FRAMES, "poll_ms": POLL_MS,
                "max_frames": settings.FACE_MAX_FRAMES, "max_frame_bytes": settings.FACE_MAX_FRAME_BYTES,
            },
        }
        return Response(SessionSerializer(body).data, status=status.HTTP_201_CREATED)


CHUNK_FRAMES = engine.CHUNK_FRAMES  # 600 ms of frames at 5 fps: arrival stamps lag the capture by at most that
POLL_MS = 400  # the page asks for the current prompt this often: a prompt shows within ~0.5 s of its issue


def _nonce_check(session_id: str) -> None:
    if not NONCE_RE.fullmatch(session_id):  # also keeps NUL bytes and the like away from the database
        raise FaceApiError("no_session", "这次认证已失效，请重新开始。", 404)


class PromptView(APIView):
    @extend_schema(responses={200: PromptSerializer, 404: OpenApiResponse(ErrorSerializer)},
                   summary="现在该做哪个动作（只告诉已经发出的动作）")
    def get(self, request: Request, session_id: str) -> Response:
        _nonce_check(session_id)
        try:
            session = services.session_for(nonce=session_id, user=request.user)
        except services.FaceDenied as exc:
            raise _denied(exc) from None
        now = services.prompt_now(session=session)
        return Response(PromptSerializer({"step": now.step, "of": now.of, "prompt": now.kind, "text": now.text,
                                          "done": now.done}).data)


class FramesView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    def handle_exception(self, exc: Exception) -> Response:
        # More files than DATA_UPLOAD_MAX_NUMBER_FILES, or a body past the limits, is raised by
        # Django while DRF reads request.POST for its CSRF check: a 400 with a message, not a 500.
        if isinstance(exc, TooManyFilesSent):
            exc = FaceApiError("too_many_frames", f"一次上传的照片太多，最多 {settings.FACE_CHUNK_MAX_FRAMES} 张。")
        elif isinstance(exc, (SuspiciousOperation, RequestDataTooBig)):
            exc = FaceApiError("bad_upload", "上传的内容有误或太大。")
        return super().handle_exception(exc)

    @extend_schema(request={"multipart/form-data": FramesSerializer},
                   responses={200: VerdictSerializer, 202: ChunkSerializer, **ERRORS},
                   summary="边拍边上传一小批照片；最后一批带 done=1，得到认证结果（生产环境可能先是 pending）")
    def post(self, request: Request, session_id: str) -> Response:
        _nonce_check(session_id)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > settings.FACE_MAX_UPLOAD_BYTES + 64 * 1024:  # refuse before parsing (and spooling) the body
            raise FaceApiError("upload_too_large", "上传的内容太大。")
        try:
            files = request.FILES.getlist("frames")
            done = str(request.data.get("done", "")).lower() in ("1", "true", "on", "yes")
        except TooManyFilesSent:
            raise FaceApiError("too_many_frames", f"一次上传的照片太多，最多 {settings.FACE_CHUNK_MAX_FRAMES} 张。") from None
        except (ParseError, SuspiciousOperation, RequestDataTooBig):
            raise FaceApiError("bad_upload", "上传的内容有误或太大。") from None
        if len(files) > settings.FACE_CHUNK_MAX_FRAMES:
            raise FaceApiError("too_many_frames", f"一次上传的照片太多，最多 {settings.FACE_CHUNK_MAX_FRAMES} 张。")
        frames: list[bytes] = []
        for f in files:
            if f.size is not None and f.size > settings.FACE_MAX_FRAME_BYTES:
                raise FaceApiError("file_too_large", "图片文件太大")
            frames.append(f.read())
        ua = request.headers.get("User-Agent", "")
        try:
            attempt = None
            if frames:
                attempt = services.frames_add(nonce=session_id, user=request.user, frames=frames)
            if not done:
                if attempt is None:
                    raise FaceApiError("no_frames", "没有收到照片，请重新拍摄。")
                return Response(ChunkSerializer({"received": attempt.frame_count}).data,
                                status=status.HTTP_202_ACCEPTED)
            attempt = services.attempt_finish(nonce=session_id, user=request.user, user_agent=ua)
        except engine.UploadRejected as exc:
            raise FaceApiError(exc.code, exc.message) from None
        except services.FaceDenied as exc:
            raise _denied(exc) from None
        attempt = services.attempt_dispatch(attempt=attempt)
        body = verdict_payload(attempt)
        return Response(VerdictSerializer(body).data, status=status.HTTP_200_OK)


class AttemptView(APIView):
    @extend_schema(responses={200: VerdictSerializer, 404: OpenApiResponse(ErrorSerializer)},
                   summary="查看一次认证的结果")
    def get(self, request: Request, attempt_id: int) -> Response:
        if attempt_id > 2**62:  # bigint range: a fuzzed id is a 404, not a database error
            raise Http404
        attempt = FaceAttempt.objects.filter(pk=attempt_id, user=request.user).select_related("pensioner").first()
        if attempt is None:
            raise Http404
        return Response(VerdictSerializer(verdict_payload(attempt)).data)
