"""The pages of drill 10 (and its CI copy), run in a Django process of their own.

    outage_pages.py setup   -> makes a staff user and a pensioner with a reference face; prints their ids
    outage_pages.py pages   -> signs them in and calls the pages that enqueue a task; prints the timings

`pages` is run with REDIS_URL pointing at a listener that accepts and never answers:
each page must answer within BOUND_SECONDS and leave its work in the outbox (a queued
notifications.Message, a pending FaceAttempt). Requests go through Django's test
client, i.e. the real URL routing, middleware, views and services, in-process; no
network other than the (dead) Redis on loopback.
"""
# ruff: noqa: T201 - prints its JSON result

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
FACES = ROOT / "tests" / "fixtures" / "faces"
BOUND_SECONDS = 2.0
SMS_PAGES = 3


def setup() -> dict:
    from certification.faces import services as faces
    from certification.faces.models import ReferenceFace
    from certification.models import Pensioner, Role, StreetOffice, User

    office = StreetOffice.objects.order_by("id").first()
    p = Pensioner.objects.filter(street_office=office, status="active").exclude(phone="").order_by("id").first()
    staff, _ = User.objects.get_or_create(username="drill10-staff", defaults={"role": Role.STAFF})
    staff.street_offices.add(office)
    who = Pensioner.objects.filter(status="active").exclude(phone="").exclude(pk=p.pk).order_by("id").first()
    elder, _ = User.objects.get_or_create(username="drill10-elder", defaults={"role": Role.PENSIONER, "pensioner": who})
    faces.reference_enroll(pensioner=who, image=(FACES / "lin_manuel_miranda_1.jpg").read_bytes(),
                           source=ReferenceFace.Source.COMMAND)
    return {"staff": staff.pk, "sms_pensioner": p.pk, "elder": elder.pk}


def _url(name: str, p: object) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, kwargs={"key": p.public_key})  # type: ignore[attr-defined]
    except (NoReverseMatch, AttributeError):
        return reverse(name, kwargs={"pk": p.pk})  # type: ignore[attr-defined]


def pages(ids: dict) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from certification.faces.models import FaceAttempt
    from certification.models import Pensioner, User
    from notifications.models import Message

    out: dict = {"bound_seconds": BOUND_SECONDS, "sms": [], "face": []}
    staff = Client(raise_request_exception=False)
    staff.force_login(User.objects.get(pk=ids["staff"]))
    p = Pensioner.objects.get(pk=ids["sms_pensioner"])
    url = _url("staff:sms_now", p)
    for i in range(SMS_PAGES):
        t = time.monotonic()
        r = staff.post(url, {"text": f"演练短信 {i}：请到社区服务中心办理认证。"})
        out["sms"].append({"status": r.status_code, "seconds": round(time.monotonic() - t, 3)})
    rows = Message.objects.filter(template="staff_message", pensioner_id=p.pk)
    out["sms_rows"] = {s: rows.filter(status=s).count() for s in set(rows.values_list("status", flat=True))}

    elder = Client(raise_request_exception=False)
    elder.force_login(User.objects.get(pk=ids["elder"]))
    t = time.monotonic()
    r = elder.post("/api/v1/faces/sessions/", {"mode": "self", "consent": True}, content_type="application/json")
    out["face"].append({"page": "session", "status": r.status_code, "seconds": round(time.monotonic() - t, 3)})
    if r.status_code == 201:
        url = r.json()["frames_url"]
        clip = sorted((FACES / "clip").glob("*.jpg"))
        # The capture page sends small chunks as it films (each one enqueues its analysis),
        # the last with done=1 (that one enqueues the check).
        chunks = [clip[k:k + 4] for k in range(0, len(clip), 4)]
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            data: dict = {"frames": [SimpleUploadedFile(f.name, f.read_bytes(), content_type="image/jpeg")
                                     for f in chunk]}
            if last:
                data["done"] = "1"
            t = time.monotonic()
            r = elder.post(url, data)
            body = r.json() if r.headers.get("Content-Type", "").startswith("application/json") else {}
            out["face"].append({"page": "frames+done" if last else "frames", "status": r.status_code,
                                "seconds": round(time.monotonic() - t, 3), "body_status": body.get("status"),
                                "code": body.get("code")})
    out["face_attempts"] = {s: FaceAttempt.objects.filter(state=s).count()
                            for s in set(FaceAttempt.objects.values_list("state", flat=True))}
    timings = [x["seconds"] for x in out["sms"] + out["face"]]
    out["max_seconds"] = max(timings) if timings else None
    return out


def main() -> None:
    import django

    django.setup()
    mode = sys.argv[1]
    if mode == "setup":
        print(json.dumps(setup()))
    else:
        print(json.dumps(pages(json.loads(sys.argv[2])), ensure_ascii=False))


if __name__ == "__main__":
    main()
