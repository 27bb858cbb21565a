"""Account pages: sign-up. Sign-in, sign-out and the password pages are Django's own views."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render

from portal.accounts.forms import SignupForm


def signup(request):
    if not settings.PORTAL_SIGNUP_ENABLED:
        raise Http404("Sign-up is switched off")
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup.html", {"form": form})
