# Type stubs for siphon-deno's `siphon` package (written by `siphon-deno stubs`).
from . import cache as cache, http as http, log as log, pubsub as pubsub

__all__ = ["cache", "http", "log", "pubsub"]
