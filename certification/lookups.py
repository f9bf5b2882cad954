"""Look-ups of a person by ID number + name, done by a relative (DESIGN §5, issue 13 item 6).

"Certify someone else", the home-visit request and the relative's appeal all answer
"does this ID number go with this name?". Each of them counts every look-up here, found
or not, in one set of hourly buckets: per helper (FACE_PROXY_HELPER_PER_HOUR) and per ID
number (FACE_PROXY_TARGET_PER_HOUR), so the forms together cannot be used to test more
pairs than one of them alone.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from . import idnumber


class LookupLimited(Exception):
    pass


def _hit(key: str, limit: int) -> bool:
    # The "faces:rl:" prefix kept from the proxy check's first counter: counts survive a deploy.
    bucket = f"faces:rl:{key}:{int(timezone.now().timestamp() // 3600)}"
    cache.add(bucket, 0, timeout=3700)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=3700)
        count = 1
    return count <= limit


def lookup_count(*, helper_id: int, id_number: str) -> None:
    """Count one look-up; LookupLimited once the helper or the ID number is over its hourly limit."""
    number = idnumber.normalize(id_number or "")
    helper_ok = _hit(f"helper:{helper_id}", settings.FACE_PROXY_HELPER_PER_HOUR)
    target_ok = _hit("target:" + hashlib.sha256(number.encode()).hexdigest()[:32],
                     settings.FACE_PROXY_TARGET_PER_HOUR)
    if not (helper_ok and target_ok):
        raise LookupLimited
