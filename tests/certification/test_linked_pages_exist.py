"""The role home pages link to other apps with `{% url … as x %}`, which hides a missing route.

This test makes a renamed or missing route fail loudly instead.
"""

import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse

TEMPLATES = Path(settings.BASE_DIR) / "templates" / "certification"


def test_every_optional_link_on_the_home_pages_resolves():
    names = set()
    for path in TEMPLATES.glob("*.html"):
        names |= set(re.findall(r"\{% url '([a-z_]+:[a-z_]+)' as", path.read_text(encoding="utf-8")))
    assert len(names) >= 8
    for name in sorted(names):
        assert reverse(name).startswith("/"), name
