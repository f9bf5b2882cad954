"""Forms: input shape only. Decisions live in .services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Appeal, CaseKind

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CHANNELS = [("counter", _("窗口认证")), ("video", _("视频认证")), ("home_visit", _("上门认证"))]


class AppealForm(forms.Form):
    """我有异议: the pensioner's own form (and the base of the relative's and the staff's)."""

    kind = forms.ChoiceField(label=_("您的情况"), choices=Appeal.Kind.choices, widget=forms.RadioSelect,
                             error_messages={"required": _("请选择您的情况。")})
    text = forms.CharField(label=_("简单说明（可以不写）"), required=False, max_length=300,
                           widget=forms.Textarea(attrs={"rows": 3, "maxlength": 300}),
                           error_messages={"max_length": _("说明请不要超过 300 个字。")})
    contact_phone = forms.CharField(label=_("联系电话"), required=False, max_length=20,
                                    widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))


class RelativeAppealForm(AppealForm):
    id_number = forms.CharField(label=_("老人的身份证号"), max_length=24,
                                error_messages={"required": _("请填写老人的身份证号。")})
    name = forms.CharField(label=_("老人的姓名"), max_length=64, error_messages={"required": _("请填写老人的姓名。")})
    field_order = ["id_number", "name", "kind", "text", "contact_phone"]


class StaffAppealForm(AppealForm):
    kind = forms.ChoiceField(label=_("异议类型"), choices=Appeal.Kind.choices)


class AnswerForm(forms.Form):
    outcome = forms.ChoiceField(label=_("处理结果"), choices=Appeal.Outcome.choices, widget=forms.RadioSelect)
    channel = forms.ChoiceField(label=_("认证方式（结果为“已认证”时）"), choices=[("", "—"), *CHANNELS],
                                required=False)
    occurred_on = forms.DateField(label=_("认证日期"), required=False, widget=DATE)
    note = forms.CharField(label=_("给本人的答复"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("confirm", _("确认")), ("reject", _("驳回"))])
    note = forms.CharField(label=_("说明"), required=False, max_length=300,
                           widget=forms.Textarea(attrs={"rows": 2}))


class RevocationForm(forms.Form):
    reason = forms.CharField(label=_("撤销原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class CaseFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部")), *CaseKind.choices])
