from django.urls import include, path, re_path

from pedsdesk.api import api, api_root, docs_asset, unknown_path

# The docs assets, the index and the JSON 404 live in ninja's "api" namespace too, so
# everything under /api/v1/ is reversed as "api:…" (and the staff-URL walk skips it).
_patterns, _app_name, _namespace = api.urls

urlpatterns = [
    path("", include((
        [
            path("", api_root, name="root"),
            path("docs/assets/<str:name>", docs_asset, name="docs-asset"),
            *_patterns,
            re_path(r"^(?P<path>.*)$", unknown_path),
        ],
        _app_name,
    ), namespace=_namespace)),
]
