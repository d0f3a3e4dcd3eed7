"""How the request's lists travel from JS: a section of values separated by ``\\0`` (header
pairs, query pairs, path-parameter values), or, when a value could hold a separator (the raw
text had ``%00``/``%01``), ``\\x02`` followed by a JSON list. The TypeScript half is
``Bridge.#section`` in workers/bridge/bridge.ts."""


def values(section):
    """The values of one section, in order."""
    if section and section[0] == "\x02":
        import json
        return json.loads(section[1:])
    return section.split("\0") if section else []


def pairs(section):
    """A section of name/value pairs as a dict; a repeated name keeps its last value."""
    it = iter(values(section))
    return dict(zip(it, it))
