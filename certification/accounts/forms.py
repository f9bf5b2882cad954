from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy


class OtpTokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("验证码（身份验证器上的 6 位数字，或一个恢复码）"), max_length=16,
        error_messages={"required": gettext_lazy("请输入验证码")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].strip().replace(" ", "")
