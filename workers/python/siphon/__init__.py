"""siphon: the script API that siphon-http scripts import (``from siphon import http, log``).

Boundary: everything here runs inside one Pyodide interpreter in one worker. The wire, routing,
body limits and deadlines are the worker's (TypeScript); this package builds ``http.Request``,
runs middleware and handlers, and packs the ``http.Response`` back.
"""

from . import cache, http, log, pubsub

__all__ = ["cache", "http", "log", "pubsub"]
