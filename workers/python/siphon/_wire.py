"""How the request's lists travel from JS (``siphon._contract``): a section of values joined by
``ITEM`` (header pairs, query pairs, path-parameter values), or, when a value could hold a
separator (the raw text had ``%00``/``%01``), ``JSON_SECTION`` and a JSON list. The TypeScript
half is ``packRequest`` in workers/bridge/contract.ts."""

import json

from ._contract import ITEM, JSON_SECTION


def values(section):
    """The values of one section, in order."""
    if section and section[0] == JSON_SECTION:
        return json.loads(section[1:])
    return section.split(ITEM) if section else []


def pairs(section):
    """A section of name/value pairs as a dict; a repeated name keeps its last value."""
    if not section:
        return {}
    it = iter(section.split(ITEM) if section[0] != JSON_SECTION else json.loads(section[1:]))
    return dict(zip(it, it))
