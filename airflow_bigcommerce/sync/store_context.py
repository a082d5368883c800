"""
Names to ids, and what the store allows: ONE set of rules for the sync and ``CreateCustomerOperator``.

**The rule for names.** A customer group or attribute given by name matches the store's records
whose name equals it after trimming, collapsing inner whitespace and case-folding
(:func:`name_key`: ``"  Whole   SALE "`` matches ``"whole sale"``, not ``"Wholesale"``). Two store records
that match one name are ambiguous: the sync rejects the row, the single operator fails, and both
name the ids (:class:`AmbiguousNameError`). Nothing is guessed.

**Logins.** With Multi-Storefront an e-mail is unique per login channel, not per store: two customers
clash when their login channels overlap (:func:`shares_login`), where ``channel_ids: null`` means
every channel that allows global logins (:func:`global_logins_of`).

**Plans.** A store below the Plus plan has no customer groups: ``GET /v2/customer_groups`` answers
one of :data:`NO_GROUPS_STATUSES` (:func:`plan_lacks_groups`).

Pure, apart from the calls handed in; no Airflow, no HTTP library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_bigcommerce.api import DEFAULT_CHANNEL_ID, NO_GROUPS_STATUSES
from airflow_bigcommerce.sync.client import RequestRejectedError

if TYPE_CHECKING:
    from airflow_bigcommerce.sync.segments import SegmentDirectory


class AmbiguousNameError(ValueError):
    """Several store records match one name under the rule: ``ids`` names them all."""

    def __init__(self, what: str, name: str, ids: Sequence[int]) -> None:
        self.what = what
        self.name = name
        self.ids = tuple(ids)
        listed = ", ".join(str(i) for i in self.ids)
        kind = what.rsplit(maxsplit=1)[-1] + "s"  # "groups", "attributes"
        super().__init__(f"{what.capitalize()} name {name[:80]!r} is ambiguous: {kind} {listed} have it")


def name_key(name: str) -> str:
    """Return the form under which names compare: trimmed, inner whitespace collapsed, case-folded."""
    return " ".join(name.split()).casefold()


def ids_by_name(records: Iterable[Mapping[str, Any]]) -> dict[str, tuple[int, ...]]:
    """Index the store's records (``id``, ``name``) by :func:`name_key`; every id of a name, lowest first."""
    found: dict[str, list[int]] = {}
    for record in records:
        rid, name = record.get("id"), record.get("name")
        if isinstance(rid, int) and not isinstance(rid, bool) and isinstance(name, str):
            found.setdefault(name_key(name), []).append(rid)
    return {key: tuple(sorted(ids)) for key, ids in found.items()}


def id_for(what: str, name: str, index: Mapping[str, tuple[int, ...]]) -> int | None:
    """
    Return the id of the one record called ``name`` in ``index`` (:func:`ids_by_name`), or ``None``.

    :raises AmbiguousNameError: several records match the name.
    """
    ids = index.get(name_key(name), ())
    if len(ids) > 1:
        raise AmbiguousNameError(what, name, ids)
    return ids[0] if ids else None


def global_logins_of(settings: Mapping[str, Any], channel_id: int) -> bool:
    """Whether a channel lets customers with ``channel_ids: null`` log in (its settings' flag)."""
    value = settings.get("allow_global_logins")
    return bool(value) if value is not None else channel_id == DEFAULT_CHANNEL_ID


def shares_login(ours: Sequence[int] | None, theirs: Any, global_logins: Callable[[int], bool]) -> bool:
    """Whether two customers' login channels overlap (BigCommerce then refuses one e-mail for both)."""
    their_list = [int(c) for c in theirs] if isinstance(theirs, list) else None
    if ours is None and their_list is None:
        return True
    if ours is None or their_list is None:
        listed = their_list if ours is None else ours
        return any(global_logins(channel) for channel in listed or [])
    return bool(set(ours) & set(their_list))


def plan_lacks_groups(exc: RequestRejectedError) -> bool:
    """Whether ``GET /v2/customer_groups`` refused because the store's plan has no customer groups."""
    return exc.status in NO_GROUPS_STATUSES


@dataclass(frozen=True)
class StoreContext:
    """
    What a sync run knows about the store, resolved once before the first row.

    :param attribute_ids: attribute name (as ``field_map`` spells it) -> id.
    :param address_attribute_id: id of the attribute recording the sync's address, when mapped.
    :param group_ids: :func:`name_key` of a group name -> the ids of the store's groups so called.
    :param channel_id: the Multi-Storefront channel the run syncs to, or ``None``.
    :param global_logins: whether that channel lets customers with ``channel_ids: null`` log in.
    :param group_names: the store's group names as it spells them (for messages).
    :param address_ids_in_ledger: the run's ledger records the sync's address ids (no attribute
        write; the attribute, if the store has it, is only read: the record of runs without a ledger).
    :param segments: the store's segments by name, when ``field_map`` maps ``segment``.
    """

    attribute_ids: Mapping[str, int] = field(default_factory=dict)
    address_attribute_id: int | None = None
    group_ids: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    channel_id: int | None = None
    global_logins: bool = True
    group_names: tuple[str, ...] = ()
    address_ids_in_ledger: bool = False
    segments: SegmentDirectory | None = None

    def on_channel(self, customer: Mapping[str, Any]) -> bool:
        """Whether ``customer`` can log in on the run's channel (always, without a channel)."""
        if self.channel_id is None:
            return True
        return shares_login([self.channel_id], customer.get("channel_ids"), lambda _: self.global_logins)

    def group_id(self, name: str) -> int | None:
        """
        Return the id of the group called ``name`` under the rule for names, or ``None``.

        :raises AmbiguousNameError: two of the store's groups match the name.
        """
        return id_for("customer group", name, self.group_ids)
