"""Dashboard trend charts (issue 12 item 11): chart text at least 16 px as drawn, and the
scale's top label never over the legend. Real Chromium at desktop and tablet width."""

from __future__ import annotations

import pytest

from certification.dashboards.services import snapshot_build
from certification.models import Role
from tests.browser import SHOTS, open_page, session_cookie
from tests.dashboards.population import TODAY, build_population
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MEASURE = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  return {
    fonts: [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale),
    top: [...svg.querySelectorAll('[data-role=scale-top]')].map(box),
    legend: [...svg.querySelectorAll('[data-role=legend], [data-role=legend-key]')].map(box),
  };
})"""


def _overlap(a, b) -> bool:  # type: ignore[no-untyped-def]
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("width", [1280, 768])
def test_chart_text_is_at_least_16px_and_the_top_label_clears_the_legend(browser, live_server, client, width):
    build_population(n=30)
    snapshot_build(today=TODAY)
    admin = UserFactory(role=Role.ADMIN, username="charts-admin")
    ctx, page = open_page(browser, live_server, session_cookie(client, admin, live_server), "/dashboards/", width)
    try:
        charts = page.evaluate(MEASURE)
        assert len(charts) >= 4
        with_legend = [c for c in charts if c["legend"]]
        assert with_legend, "the trend charts have legends"
        for chart in charts:
            assert min(chart["fonts"]) >= 16, chart["fonts"]
            for top in chart["top"]:
                assert not any(_overlap(top, item) for item in chart["legend"])
        page.screenshot(path=str(SHOTS / f"dashboard_charts_{width}.png"), full_page=True)
    finally:
        ctx.close()
