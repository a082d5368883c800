"""What adding shopper profiles to a segment did: the one result type of the hook and the in-process client.

Standard library only, so the in-process client (and the sync core) can name it without importing
the hook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["ProfilesAdded", "split_conflicts"]


@dataclass(frozen=True)
class ProfilesAdded:
    """Profile ids added to the segment, and ids that were in it already (its 409 per index)."""

    added: list[str] = field(default_factory=list)
    already_members: list[str] = field(default_factory=list)


def split_conflicts(batch: Sequence[str], errors: Mapping[str, object]) -> ProfilesAdded | None:
    """
    Read a 409 to an add of ``batch``: the indexes it names were in the segment already, the rest added.

    ``None`` when it names none of the batch's indexes: then it is not the per-item conflict.
    """
    conflicted = {batch[int(k)] for k in errors if k.isdigit() and int(k) < len(batch)}
    if not conflicted:
        return None
    return ProfilesAdded([p for p in batch if p not in conflicted], [p for p in batch if p in conflicted])
