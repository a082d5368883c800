"""What adding shopper profiles to a segment did: the one result type of the hook and the in-process client.

Standard library only, so the in-process client (and the sync core) can name it without importing
the hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ProfilesAdded"]


@dataclass(frozen=True)
class ProfilesAdded:
    """Profile ids added to the segment, and ids that were in it already (its 409 per index)."""

    added: list[str] = field(default_factory=list)
    already_members: list[str] = field(default_factory=list)
