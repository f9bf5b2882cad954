from __future__ import annotations

import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from . import idnumber, names
from .models import Role

# idnumber's reasons stay Chinese (they also go into import error files); they are
# listed here so that makemessages extracts them, and translated when shown.
ID_NUMBER_REASONS = (
    gettext_noop("身份证号须为18位（前17位为数字，最后一位为数字或X）"),
    gettext_noop("身份证号校验位错误"),
    gettext_noop("身份证号中的出生日期无效"),
)

# Sign-in errors are shown next to the field in large type, in plain words (issue 12):
# no browser bubbles (the forms are `novalidate`, no minlength) and no jargon such as
# "校验位" or "该字段是必填项".
PLAIN_ID_EMPTY = gettext_lazy("请输入您的身份证号")
PLAIN_ID_CHECK_DIGIT = gettext_lazy("身份证号好像输错了一位，请再核对一下")
PLAIN_ID_BIRTH = gettext_lazy("身份证号里的出生日期不对，请再核对一下")


def plain_id_length(n: int) -> str:
    return _("身份证号是 18 位，您输入了 %(n)d 位，请再核对一下") % {"n": n}


class IdNumberForm(forms.Form):
    id_number = forms.CharField(label=gettext_lazy("身份证号"), max_length=40,
                                error_messages={"required": PLAIN_ID_EMPTY},
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text",
                                                              "aria-describedby": "id_number_help"}))

    def clean_id_number(self) -> str:
        raw = idnumber.normalize(self.cleaned_data["id_number"]).replace(" ", "")
        if len(raw) != 18:
            raise forms.ValidationError(plain_id_length(len(raw)))
        try:
            return idnumber.parse(raw).number
        except idnumber.InvalidIdNumber:
            if raw[:17].isdigit() and raw[17] in "0123456789X" and idnumber.check_digit(raw[:17]) != raw[17]:
                raise forms.ValidationError(PLAIN_ID_CHECK_DIGIT) from None
            if not raw[:17].isdigit() or raw[17] not in "0123456789X":
                raise forms.ValidationError(_("身份证号只有数字，最后一位可能是 X，请再核对一下")) from None
            raise forms.ValidationError(PLAIN_ID_BIRTH) from None


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("短信验证码（6位数字）"), max_length=20,
                           error_messages={"required": gettext_lazy("请输入短信里的 6 位数字验证码")},
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("验证码是短信里的 6 位数字，请再核对一下"))
        return code


class PhoneForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("手机号"), max_length=20,
                            error_messages={"required": gettext_lazy("请输入您的手机号")},
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    name = forms.CharField(label=gettext_lazy("您的姓名（首次登录时填写）"), max_length=30, required=False)

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip().replace(" ", "").replace("-", "")
        if not re.fullmatch(r"1\d{10}", phone):
            raise forms.ValidationError(_("手机号是 1 开头的 11 位数字，请再核对一下"))
        return phone

    def clean_name(self) -> str:
        # The name goes into the official SMS to the pensioner: a name, nothing else (issue 13).
        name = self.cleaned_data["name"]
        if name.strip() and not names.is_valid(name):
            raise forms.ValidationError(_("姓名只能是汉字或英文字母，不超过 15 个字"))
        return names.normalize(name)


class StaffAuthenticationForm(AuthenticationForm):
    """Password sign-in is for staff and administrators only."""

    def confirm_login_allowed(self, user) -> None:  # type: ignore[no-untyped-def]
        super().confirm_login_allowed(user)
        if user.role not in (Role.STAFF, Role.ADMIN) and not user.is_superuser:
            raise forms.ValidationError(_("此入口仅供工作人员使用"), code="not_staff")
