"""SMS text templates, by code. Plain Simplified Chinese for elderly readers.

Each text starts with the sender's signature, as Chinese SMS rules require. The
outbox stores the rendered text, so a later wording change never alters what a
person was actually sent.
"""

from __future__ import annotations

from collections.abc import Mapping

SIGNATURE = "【青岛人社】"

TEMPLATES: dict[str, str] = {
    "warning_entered": (
        "{name}您好：您的养老金领取资格认证已于{valid_until}到期，请在{suspend_on}前完成认证，"
        "否则将暂停发放。可用手机刷脸认证，也可到{office}窗口办理，行动不便可预约上门认证。咨询电话12333。"
    ),
    "warning_entered_relative": (
        "您好：您的亲属{name}的养老金领取资格认证已于{valid_until}到期，请协助其在{suspend_on}前完成认证"
        "（可在您的账号中“给他人认证”）。咨询电话12333。"
    ),
    "warning_reminder": (
        "{name}您好：您的养老金领取资格认证还没有完成，{days_left}天后（{suspend_on}）将暂停发放。"
        "请尽快刷脸认证或到{office}窗口办理。咨询电话12333。"
    ),
    "suspension_soon": (
        "{name}您好：再过{days_left}天（{suspend_on}起）您的养老金将暂停发放。请尽快完成资格认证，"
        "行动不便可预约上门认证。咨询电话12333。"
    ),
    "suspended": (
        "{name}您好：因未按时完成资格认证，您的养老金自{suspended_since}起暂停发放。完成认证后即恢复发放，"
        "暂停期间的养老金将全额补发。咨询电话12333。"
    ),
    "restored": (
        "{name}您好：您已完成养老金领取资格认证，养老金已恢复发放，暂停期间应补发{back_pay}元"
        "（共{months}个月），将随下次发放一并到账。"
    ),
    "proxy_certified": (
        "{name}您好：{helper}（{relationship}）于{date}为您代办了养老金领取资格认证。"
        "如您不知情，请立即致电12333。"
    ),
    "big_data_certified": (
        "{name}您好：您本年度的养老金领取资格认证已通过信息比对自动完成，有效期至{valid_until}，无需另行办理。"
    ),
    "home_visit_confirmed": (
        "{name}您好：街道工作人员将于{visit_on}上门为您办理养老金领取资格认证，请在家等候。"
        "如需改期请致电{office_phone}。"
    ),
    "staff_message": "{text}",
    # Issue 13: the sign-in code (certification.signin); it skips the quiet hours.
    "signin_code": "您的登录验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人，工作人员不会向您索要验证码。",
    # Issue 10: appeals and death revocations (certification.cases).
    "appeal_filed": (
        "{name}您好：我们已收到您的异议申请，街道工作人员将在{due_on}前答复您。"
        "答复结果会短信告诉您，也可以在网上“我的认证”里查看。咨询电话{office_phone}。"
    ),
    "appeal_answered": (
        "{name}您好：您的异议申请已处理，结果：{outcome}。{answer}如有疑问请致电{office_phone}。"
    ),
    "death_revoked": (
        "{name}您好：经街道核实，您的死亡登记是错误的，已经撤销，养老金恢复发放，"
        "停发期间应补发{back_pay}元，将随下次发放一并到账。给您带来不便，深表歉意。咨询电话{office_phone}。"
    ),
}


class UnknownTemplate(KeyError):
    pass


def render(template: str, context: Mapping[str, object]) -> str:
    try:
        body = TEMPLATES[template]
    except KeyError:
        raise UnknownTemplate(template) from None
    # str.format, not the Django template engine: SMS is plain text, nothing to escape.
    return SIGNATURE + body.format_map(dict(context))


def cn_date(day: object) -> str:
    """2026年7月3日 — how dates are written to elderly readers."""
    return f"{day.year}年{day.month}月{day.day}日"  # type: ignore[attr-defined]
