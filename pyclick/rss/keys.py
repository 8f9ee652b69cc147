"""RSS hash keys, apart from the hash itself: a configuration names its key
when it is checked, long before anything is hashed (and numpy is loaded)."""

from __future__ import annotations

#: The key of Microsoft's RSS verification suite, also the default of many NICs.
MICROSOFT_KEY: bytes = bytes.fromhex(
    "6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa"
)
