"""siphon_sdk: test scripts written for siphon-http's API, inside siphon-deno's own runtime.

``from siphon_sdk.http_testing import HttpTestHarness`` and ``from siphon_sdk.http import
MockResponse`` work as in siphon-http's SDK, but a harness here serves each request through the
same router, limits, bridge and Pyodide interpreter as ``siphon-deno serve`` — only the sockets
and the outbound network are replaced. Run the tests with ``siphon-deno test FILE|DIR…``.
"""

__all__ = ["HttpTestHarness"]


def __getattr__(name):
    if name == "HttpTestHarness":
        from .http_testing import HttpTestHarness
        return HttpTestHarness
    raise AttributeError(name)
