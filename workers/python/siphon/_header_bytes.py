"""Header bytes that must not go on the wire: RFC 9110 forbids the C0 controls but HTAB, and
DEL, in a field name or value; NUL also separates the packing's items. Responses
(``siphon._bridge``) and a WebSocket accept's headers (``siphon._websocket``) are checked here,
so a script learns which header it was; JS checks the bytes again (workers/bridge/response.ts)."""

import re

# Besides NUL, which the packing counts as it splits.
UNSENDABLE = re.compile("[\x01-\x08\x0a-\x1f\x7f]").search
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]").search


def forbidden(pairs):
    """The first ``(name, value)`` holding a byte that must not be sent, described (``'x-a':
    its value holds the control byte 0x0d at offset 3, …``); None when every byte may go."""
    for name, value in pairs:
        for part, text in (("name", name), ("value", value)):
            bad = _CONTROL(text)
            if bad is not None:
                return (f"{name[:64]!r}: its {part} holds the control byte "
                        f"0x{ord(bad.group()):02x} at offset {bad.start()}, which HTTP forbids "
                        "(RFC 9110 section 5.5)")
    return None
