"""The contract between JS and Python inside a worker, Python's half (JS's half is
workers/bridge/contract.ts, which says what each name means; workers/bridge/contract_test.ts
checks that the two agree).

JS hands its services over once per interpreter, through :func:`attach`; every module reads
them from :data:`host` (``host.fetch``, ``host.sockets``…) when it calls them, so nothing else
sets them. This module imports nothing of siphon: every other module may import it.
"""

# The packed request (``siphon._bridge.read_request`` reads it): sections in this order, each
# ended by SECTION; list items joined by ITEM, or JSON_SECTION and a JSON array. An empty client
# was left out: ``host.requestPart(seq, "client")`` works it out. For the ASGI app's route the
# client is always there and the params section holds APP_PARTS (``siphon._asgi.scope_base``).
SECTION = "\x01"
ITEM = "\0"
JSON_SECTION = "\x02"
REQUEST_SECTIONS = ("method", "path", "client", "query", "headers", "params", "cert",
                    "request_id", "seq", "stream")
APP_PARTS = ("raw_path", "query", "scheme", "host", "port", "http_version")

# What ``dispatch`` answers instead of a response: an error status only.
TOO_LARGE = "!413"  # a streamed body went past max_body_bytes and nobody caught it
FAILED = "!500"  # the handler (or a middleware) failed; the traceback is in the log
UNSENDABLE = "!500h"  # a response header held a byte HTTP forbids (a 500 counted as such)
TIMED_OUT = "!504"  # interrupted (or cancelled) at the request deadline
MARKERS = (TOO_LARGE, FAILED, UNSENDABLE, TIMED_OUT)

# A request-body read that failed this way is raised as ``http.PayloadTooLarge``.
TOO_LARGE_PREFIX = "PayloadTooLarge:"

# The services JS may hand over (absent ones are None).
SERVICES = ("log", "wait", "killed", "schedule", "stackSwitching", "fetch", "fetchStream",
            "readStream", "closeStream", "requestPart", "routeLabel", "readBody", "cache", "cacheAsync",
            "sockets", "pubsub", "harness")

# What JS calls in Python, by module.
ENTRIES = {
    "siphon._bridge": ("dispatch", "open_socket", "abort_socket", "grow_in", "disconnect",
                       "inbuf", "outbuf"),
    "siphon._runtime": ("configure", "forget_script", "load_script", "load_app",
                        "unresolved_imports",
                        "install", "startup", "shutdown", "retire", "memory_stats"),
}


class _Host:
    """The services of this interpreter's thread; None until :func:`attach`."""

    __slots__ = SERVICES + ("attached",)

    def __init__(self):
        for name in self.__slots__:
            setattr(self, name, None)


host = _Host()


def attach(services):
    """Take the thread's services (a JS object with the SERVICES it provides). Once."""
    if host.attached:
        raise RuntimeError("siphon._contract.attach: this interpreter is attached already")
    for name in SERVICES:
        setattr(host, name, getattr(services, name, None))
    host.attached = True
