"""URLs of the REST API under /api/am/devportal/v3/ (included by portal/urls.py).

The keys area's endpoints are included at the same level; the last pattern turns any other URL
under the prefix into a JSON 404.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView

from portal.api_errors import api_not_found
from portal.applications import api


class SwaggerUIView(SpectacularSwaggerSplitView):
    # Our copy of drf-spectacular's page without its inline <style>, which the strict CSP refuses.
    template_name = "api_tokens/swagger_ui.html"
    title = "Developer Portal API"


urlpatterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="api_schema"),
    path("docs/", SwaggerUIView.as_view(url_name="api_schema"), name="api_docs"),
    path("applications", api.ApplicationListApi.as_view(), name="api_applications"),
    path("applications/<uuid:application_id>", api.ApplicationDetailApi.as_view(), name="api_application"),
    path(
        "settings/application-attributes",
        api.ApplicationAttributeListApi.as_view(),
        name="api_application_attributes",
    ),
    path("", include("keys.api_urls")),
    re_path(r"^.*$", api_not_found),
]
