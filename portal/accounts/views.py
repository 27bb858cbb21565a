"""Account pages: sign-up (with e-mail verification) and the limited password reset.

Sign-in, sign-out and the other password pages are Django's own views.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.cache import never_cache

from portal.accounts import services
from portal.accounts.forms import SignupForm
from portal.ratelimit import client_address, hit_all, page_response


def _email_limits(request, area: str) -> int | None:
    """Count a POST per client address and per e-mail address typed; the wait when over a limit."""
    email = request.POST.get("email", "").strip().lower()
    return hit_all(
        request,
        (
            f"{area}.address",
            client_address(request),
            getattr(settings, f"PORTAL_RATELIMIT_{area.upper()}_ADDRESS"),
        ),
        (f"{area}.email", email, getattr(settings, f"PORTAL_RATELIMIT_{area.upper()}_EMAIL")),
    )


def signup(request):
    if not settings.PORTAL_SIGNUP_ENABLED:
        raise Http404("Sign-up is switched off")
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    if request.method == "POST" and (wait := _email_limits(request, "signup")):
        return page_response(request, wait)
    verify = settings.PORTAL_SIGNUP_EMAIL_VERIFICATION
    form = SignupForm(request.POST or None, verify_email=verify)
    if request.method == "POST" and form.is_valid():
        if verify:
            services.signup_request(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
            return redirect("signup_sent")
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup.html", {"form": form})


def signup_sent(request):
    if not settings.PORTAL_SIGNUP_ENABLED:
        raise Http404("Sign-up is switched off")
    return render(request, "registration/signup_sent.html")


@never_cache
def signup_verify(request, uidb64: str, token: str):
    """The link in the verification mail: GET shows a button (mail scanners follow links), POST activates."""
    try:
        user_id = force_str(urlsafe_base64_decode(uidb64))
        user_id = int(user_id)
    except (ValueError, TypeError):
        user_id = None
    user = services.pending_user(user_id, token)
    if user is None:
        return render(request, "registration/signup_verify.html", {"validlink": False}, status=400)
    if request.method == "POST":
        services.verify_signup(user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup_verify.html", {"validlink": True, "pending": user})


def password_reset(request, *args, **kwargs):
    """Django's password reset, limited per client address and per e-mail address."""
    if request.method == "POST" and (wait := _email_limits(request, "reset")):
        return page_response(request, wait)
    return auth_views.PasswordResetView.as_view()(request, *args, **kwargs)
