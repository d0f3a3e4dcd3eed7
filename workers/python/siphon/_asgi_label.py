"""Which of an ASGI app's routes answered a request, for metrics and the access log.

Labels come from the app's route table, never from the raw path, so their number stays the
app's number of routes (the worker bounds them again: workers/bridge/labels.ts).
"""


def route_label(scope, app):
    """The template of the app's route that answered (for metrics and the access log): the
    scope's ``route`` where the framework sets one (FastAPI), else the route whose endpoint the
    router put in the scope (Starlette), else None — labels never come from the raw path, so
    their number stays the app's number of routes."""
    try:
        route = scope.get("route")
        if route is not None:
            template = getattr(route, "path_format", None) or getattr(route, "path", None)
            if isinstance(template, str):
                return template
        endpoint = scope.get("endpoint")
        if endpoint is None:
            return None
        templates = app.templates
        if templates is None:
            templates = app.templates = _templates(app.call)
        return templates.get(endpoint)
    except Exception:  # noqa: BLE001 - an odd router object: the request keeps "(app)"
        return None


def _templates(root):
    """Endpoint -> route template, from the route tree of the app (through middleware's
    ``.app``, a ``.router``, Mounts' ``.routes``)."""
    node, found = root, {}
    for _ in range(16):
        routes = getattr(node, "routes", None)
        if isinstance(routes, list):
            _walk(routes, "", found, 0)
            break
        node = getattr(node, "router", None) or getattr(node, "app", None)
        if node is None:
            break
    return found


def _walk(routes, prefix, found, depth):
    for route in routes if depth < 8 else ():
        inner = getattr(route, "routes", None)
        inner = inner if isinstance(inner, list) and inner else None
        # A Mount's path_format ends in its catch-all ("/api/{path}"): its children hang off
        # its plain path.
        path = None if inner is None else getattr(route, "path", None)
        path = path or getattr(route, "path_format", None) or getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        if inner is not None:
            _walk(inner, prefix + path, found, depth + 1)
        target = getattr(route, "endpoint", None) or getattr(route, "app", None)
        try:
            found.setdefault(target, prefix + path)
        except TypeError:  # an unhashable endpoint
            pass
