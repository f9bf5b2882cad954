"""Forms: input shape only. Decisions live in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from certification.models import Role, SpecialGroup, StreetOffice, User

from .models import CallOutcome, HomeVisit, VisitReason
from .selectors import NO_CONTACT, QueueFilters


class FastSelect(forms.Select):
    """A <select> built with format_html: the stock widget renders one template per
    <option>, which was most of the queue page's render time at 100k rows."""

    def render(self, name, value, attrs=None, renderer=None):  # type: ignore[no-untyped-def]
        from django.utils.html import format_html, format_html_join

        final = self.build_attrs(self.attrs, attrs)
        current = "" if value is None else str(value)
        options = format_html_join("", '<option value="{}"{}>{}</option>', (
            (v, " selected" if str(v) == current else "", label) for v, label in self.choices))
        return format_html('<select name="{}" id="{}">{}</select>', name, final.get("id", ""), options)


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ActionForm(forms.Form):
    """The record page shows several forms at once: give each its own element ids."""

    id_prefix = "action"

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class QueueFilterForm(forms.Form):
    office = forms.TypedChoiceField(label=_("街道"), required=False, coerce=int, empty_value=None,
                                    widget=FastSelect)
    community = forms.TypedChoiceField(label=_("社区"), required=False, coerce=int, empty_value=None,
                                       widget=FastSelect)
    status = forms.ChoiceField(label=_("状态"), required=False, widget=FastSelect,
                               choices=[("", _("全部")), ("warning", _("提醒期")), ("suspended", _("已暂停"))])
    special_group = forms.ChoiceField(
        label=_("特殊群体"), required=False, widget=FastSelect,
        choices=[("", _("全部")), ("none", _("无"))] + [(v, lbl) for v, lbl in SpecialGroup.choices if v])
    outcome = forms.ChoiceField(label=_("联系结果"), required=False, widget=FastSelect,
                                choices=[("", _("全部")), (NO_CONTACT, _("尚未联系"))] + list(CallOutcome.choices))
    phone_invalid = forms.BooleanField(label=_("只看手机号无效"), required=False)
    face_exhausted = forms.BooleanField(label=_("只看今日刷脸次数用完"), required=False)

    def __init__(self, *args: object, offices: list[StreetOffice], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["office"].choices = [("", _("全部"))] + [(o.pk, o.name) for o in offices]
        self.fields["community"].choices = [("", _("全部"))] + [
            (c.pk, f"{c.name}" if len(offices) == 1 else f"{o.name}/{c.name}")
            for o in offices for c in o.communities.all()
        ]

    def filters(self) -> QueueFilters:
        d = self.cleaned_data if self.is_valid() else {}
        group = d.get("special_group") or None
        return QueueFilters(
            office=d.get("office"), community=d.get("community"), status=d.get("status") or "",
            special_group="" if group == "none" else group, outcome=d.get("outcome") or "",
            phone_invalid=bool(d.get("phone_invalid")), face_exhausted=bool(d.get("face_exhausted")),
        )


class CallOutcomeForm(ActionForm):
    id_prefix = "call"
    outcome = forms.ChoiceField(label=_("联系结果"), choices=CallOutcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("备注"), required=False, max_length=200)


class SmsForm(ActionForm):
    id_prefix = "sms"
    text = forms.CharField(label=_("短信内容"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
                           initial="您好，您的养老金资格认证尚未完成，请尽快刷脸认证或到街道窗口办理。咨询电话12333。")


def office_staff(office_id: int) -> forms.models.QuerySet[User]:
    # The office's own staff only: a city administrator does not go on home visits (issue 12).
    return User.objects.filter(role=Role.STAFF, street_offices=office_id, is_active=True).distinct() \
        .order_by("username")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.last_name}{obj.first_name}".strip() or obj.username


class HomeVisitForm(ActionForm):
    id_prefix = "visit"
    visit_on = forms.DateField(label=_("上门日期"), widget=DATE)
    assignee = StaffChoiceField(label=_("上门人员"), queryset=User.objects.none())
    request_id = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=2**62)

    def __init__(self, *args: object, office_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["assignee"].queryset = office_staff(office_id)


class VisitOutcomeForm(ActionForm):
    id_prefix = "visit_outcome"
    outcome = forms.ChoiceField(
        label=_("上门结果"), widget=forms.RadioSelect,
        choices=[(c, lbl) for c, lbl in HomeVisit.Outcome.choices if c != HomeVisit.Outcome.SCHEDULED])
    note = forms.CharField(label=_("情况说明"), required=False, max_length=200)


class CounterForm(ActionForm):
    id_prefix = "counter"
    occurred_on = forms.DateField(label=_("认证日期"), widget=DATE)
    id_checked = forms.BooleanField(label=_("已当面核验身份证原件"))
    note = forms.CharField(label=_("备注"), required=False, max_length=200)


class VideoForm(ActionForm):
    id_prefix = "video"
    occurred_on = forms.DateField(label=_("视频认证日期"), widget=DATE)
    relative_name = forms.CharField(label=_("协助的亲属姓名"), max_length=32)
    relationship = forms.CharField(label=_("与本人关系"), max_length=32)
    note = forms.CharField(label=_("备注"), required=False, max_length=100)


class DeathReportForm(ActionForm):
    id_prefix = "death"
    death_date = forms.DateField(label=_("死亡日期"), widget=DATE)
    evidence_ref = forms.CharField(label=_("死亡证明文件编号"), max_length=64)
    note = forms.CharField(label=_("备注"), required=False, max_length=200)


class HomeVisitRequestForm(forms.Form):
    reason = forms.ChoiceField(label=_("申请原因"), choices=VisitReason.choices, widget=forms.RadioSelect)
    reason_note = forms.CharField(label=_("补充说明（可不填）"), required=False, max_length=200)
    date1 = forms.DateField(label=_("希望上门日期（第一选择）"), widget=DATE)
    date2 = forms.DateField(label=_("第二选择（可不填）"), required=False, widget=DATE)
    date3 = forms.DateField(label=_("第三选择（可不填）"), required=False, widget=DATE)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20,
                                    widget=forms.TextInput(attrs={"type": "tel", "inputmode": "numeric"}))

    def dates(self) -> list:
        return [d for d in (self.cleaned_data.get(k) for k in ("date1", "date2", "date3")) if d]


class RelativeVisitRequestForm(HomeVisitRequestForm):
    """A relative names the person: ID number and name must both match (like proxy certification)."""

    id_number = forms.CharField(label=_("老人的身份证号"), max_length=18)
    name = forms.CharField(label=_("老人的姓名"), max_length=64)

    field_order = ["id_number", "name"]
