"""Role checks for views. Every view names the role it serves."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from .models import Role


def sign_in_url(roles: tuple[str, ...]) -> str:
    """Where a signed-out person goes: pensioners and relatives to their own SMS sign-in.

    An expired session must not drop an 80-year-old on the staff password page. A page
    for both pensioners and relatives goes to the pensioner's sign-in, which links to
    the relative's.
    """
    if Role.PENSIONER in roles:
        return reverse("certification:pensioner_login")
    if Role.RELATIVE in roles:
        return reverse("certification:relative_login")
    return reverse("certification:login")


def role_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Anonymous users go to their own sign-in; signed-in users of another role get 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), sign_in_url(roles))
            allowed = user.role in roles or (Role.ADMIN in roles and user.is_superuser)
            if not allowed:
                raise PermissionDenied
            if user.role == Role.PENSIONER and user.pensioner_id is None:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


pensioner_required = role_required(Role.PENSIONER)
relative_required = role_required(Role.RELATIVE)
staff_required = role_required(Role.STAFF, Role.ADMIN)
admin_required = role_required(Role.ADMIN)
