from __future__ import annotations

import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from . import idnumber
from .models import Role

# idnumber's reasons stay Chinese (they also go into import error files); they are
# listed here so that makemessages extracts them, and translated when shown.
ID_NUMBER_REASONS = (
    gettext_noop("身份证号须为18位（前17位为数字，最后一位为数字或X）"),
    gettext_noop("身份证号校验位错误"),
    gettext_noop("身份证号中的出生日期无效"),
)

class IdNumberForm(forms.Form):
    id_number = forms.CharField(label=gettext_lazy("身份证号"), max_length=18, min_length=18,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}))

    def clean_id_number(self) -> str:
        try:
            return idnumber.parse(self.cleaned_data["id_number"]).number
        except idnumber.InvalidIdNumber as exc:
            raise forms.ValidationError(_(str(exc))) from None


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("短信验证码（6位数字）"), max_length=6, min_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not code.isdigit():
            raise forms.ValidationError(_("验证码是 6 位数字"))
        return code


class PhoneForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("手机号"), max_length=11, min_length=11,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    name = forms.CharField(label=gettext_lazy("您的姓名（首次登录时填写）"), max_length=30, required=False)

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if not re.fullmatch(r"1\d{10}", phone):
            raise forms.ValidationError(_("请输入 11 位手机号"))
        return phone


class StaffAuthenticationForm(AuthenticationForm):
    """Password sign-in is for staff and administrators only."""

    def confirm_login_allowed(self, user) -> None:  # type: ignore[no-untyped-def]
        super().confirm_login_allowed(user)
        if user.role not in (Role.STAFF, Role.ADMIN) and not user.is_superuser:
            raise forms.ValidationError(_("此入口仅供工作人员使用"), code="not_staff")
