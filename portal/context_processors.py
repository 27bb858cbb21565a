from django.conf import settings


def portal(request):
    return {"signup_enabled": settings.PORTAL_SIGNUP_ENABLED}
