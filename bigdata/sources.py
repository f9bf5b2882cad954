"""The evidence sources of DESIGN §4, seeded by migration 0004 (code, name, kind, trust level).

Names are stored in Chinese; gettext_noop only marks them for makemessages, and
selectors.source_labels() translates them for the page language.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

QUALIFYING = "qualifying"
DEATH = "death"

SEED: list[tuple[str, str, str, int]] = [
    ("hospital", gettext_noop("医院住院/出院记录"), QUALIFYING, 4),
    ("medical_insurance", gettext_noop("医保结算记录"), QUALIFYING, 4),
    ("outpatient", gettext_noop("门诊就诊记录"), QUALIFYING, 3),
    ("transit", gettext_noop("老年公交卡乘车记录"), QUALIFYING, 2),
    ("dibao", gettext_noop("低保金发放记录"), QUALIFYING, 4),
    ("health_check", gettext_noop("健康体检记录"), QUALIFYING, 4),
    ("vaccination", gettext_noop("疫苗接种记录"), QUALIFYING, 3),
    ("counter_visit", gettext_noop("社保窗口现场办事"), QUALIFYING, 5),
    ("death_civil", gettext_noop("民政死亡登记"), DEATH, 5),
    ("cremation", gettext_noop("殡葬火化记录"), DEATH, 5),
    ("hukou_cancel", gettext_noop("户籍注销记录"), DEATH, 3),
]

# Death sources whose records open a death_verify case instead of acting at once
# (EvidenceSource.death_action; migration 0006 sets it, the admin edits it).
VERIFY_FIRST = frozenset({"hukou_cancel"})
