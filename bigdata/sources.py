"""The evidence sources of DESIGN §4, seeded by migration 0004 (code, name, kind, trust level)."""

from __future__ import annotations

QUALIFYING = "qualifying"
DEATH = "death"

SEED: list[tuple[str, str, str, int]] = [
    ("hospital", "医院住院/出院记录", QUALIFYING, 4),
    ("medical_insurance", "医保结算记录", QUALIFYING, 4),
    ("outpatient", "门诊就诊记录", QUALIFYING, 3),
    ("transit", "老年公交卡乘车记录", QUALIFYING, 2),
    ("dibao", "低保金发放记录", QUALIFYING, 4),
    ("health_check", "健康体检记录", QUALIFYING, 4),
    ("vaccination", "疫苗接种记录", QUALIFYING, 3),
    ("counter_visit", "社保窗口现场办事", QUALIFYING, 5),
    ("death_civil", "民政死亡登记", DEATH, 5),
    ("cremation", "殡葬火化记录", DEATH, 5),
    ("hukou_cancel", "户籍注销记录", DEATH, 5),
]
