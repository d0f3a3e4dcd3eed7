"""Compatibility with siphon-http SDK tests that start with ``mock_module.install()``.

In siphon-http's SDK that call puts a mock ``siphon`` module in place. Here ``siphon`` is already
the real runtime package, so ``install()`` only returns it; ``reset()`` forgets what the active
harness recorded.
"""

import siphon


def install():
    """Return the ``siphon`` package (the real one; nothing needs installing)."""
    return siphon


def reset():
    """Forget the active harness's recorded requests, canned responses and log lines."""
    from . import http_testing
    if http_testing._active is not None:
        http_testing._active.reset()


def get_http():
    """The active :class:`~siphon_sdk.http_testing.HttpTestHarness` (it has ``add_response``,
    ``set_response`` and ``sent_requests``)."""
    from . import http_testing
    if http_testing._active is None:
        raise RuntimeError("create an HttpTestHarness first")
    return http_testing._active
