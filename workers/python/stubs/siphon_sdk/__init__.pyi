# Type stubs for `siphon_sdk` (siphon-deno's test harness).
from .http_testing import HttpTestHarness as HttpTestHarness

__all__ = ["HttpTestHarness"]
