"""Two API shapes with one name collide in the OpenAPI document (django-ninja names a
component after its class), so one endpoint's answers get checked against the other's."""

from collections import defaultdict

from ninja import Schema

import pedsdesk.api  # noqa: F401 -- every router and its schemas


def _all(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all(sub)]
    return found


def test_every_api_schema_has_its_own_name():
    by_name: dict[str, set[str]] = defaultdict(set)
    for schema in _all(Schema):
        if schema.__module__.startswith("pedsdesk."):
            by_name[schema.__name__].add(schema.__module__)
    clashes = {name: sorted(modules) for name, modules in by_name.items() if len(modules) > 1}
    assert not clashes, f"rename one of each: {clashes}"
