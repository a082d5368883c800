"""The V3 customer operations of the sandbox store: batches of 1..10.

A bad item or an e-mail in use refuses the batch whole (or, non-atomic, after its good head), as the
V3 customers API does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from airflow_bigcommerce.sandbox.state.customer import (
    Customer,
    customer_from_v3,
    customer_updated,
    normalize_email,
)
from airflow_bigcommerce.sandbox.state.customers import CustomerState
from airflow_bigcommerce.sandbox.state.errors import ApiError, v3_error
from airflow_bigcommerce.sandbox.state.query import v3_list_query
from airflow_bigcommerce.sandbox.state.schemas import (
    V3_VALIDATION_TITLE,
    V3CustomerPost,
    V3CustomerPut,
    parse_v3_items,
)

M = TypeVar("M", bound=BaseModel)
#: Customer fields that ``PUT /v3/customers`` refuses ("Subresource updates are not supported").
_SUBRESOURCES = ("addresses", "attributes")


def _in_use(emails: list[str]) -> str:
    return " ".join(f"The email address {email} is already in use." for email in emails)


class V3Customers(CustomerState):
    """``/v3/customers``: create, update and list."""

    def _vet_batch(
        self,
        parsed: list[tuple[BaseModel | None, dict[str, str]]],
        model: type[M],
        vet: Callable[[int, M, dict[str, str]], bool],
        build: Callable[[M], Customer],
    ) -> tuple[list[Customer], dict[str, str], int | None]:
        """Vet every item (so all errors are reported) but build only those before the first bad one.

        Return the built customers, the errors keyed ``index.field`` and the first bad index, if any.
        """
        built: list[Customer] = []
        errors: dict[str, str] = {}
        first_bad: int | None = None
        for index, (item, item_errors) in enumerate(parsed):
            good = not item_errors
            errors.update(item_errors)
            if isinstance(item, model):
                good = vet(index, item, errors) and good
                if good and first_bad is None:
                    built.append(build(item))
            if not good and first_bad is None:
                first_bad = index
        return built, errors, first_bad

    def _reject_batch(
        self, good_part: list[Customer], errors: dict[str, str], title: str, *, non_atomic: bool
    ) -> ApiError:
        """Return the 422 for a bad batch; non-atomic, commit its good leading part first.

        BigCommerce does not rule that out ("do not assume the entire batch succeeded or failed").
        """
        if non_atomic:
            self._commit(good_part)
            self.refused_batch_commits.extend(c.email.strip().lower() for c in good_part)
        return v3_error(422, title, errors)

    def v3_create_customers(self, body: Any, *, non_atomic: bool = False) -> list[dict[str, Any]]:
        """Create a batch of 1..10 ``customer_Post``; reject it whole (422) on any bad item or e-mail.

        ``non_atomic`` (or the ``non_atomic_batches`` setting): a refused batch commits its good head.
        """
        parsed = parse_v3_items(body, V3CustomerPost)
        non_atomic = non_atomic or self.config.non_atomic_batches
        with self.lock:
            moment = self._now()
            duplicates: list[str] = []
            claimed: list[tuple[str, list[int] | None]] = []

            def vet(index: int, item: V3CustomerPost, errors: dict[str, str]) -> bool:
                problems = self._inline_problems(index, item)
                problems.update(self._form_field_problems(index, item))
                problems.update(self._rule_problems(index, item.model_dump(exclude_unset=True)))
                errors.update(problems)
                free = not self._email_taken(item.email, item.channel_ids)
                free = free and not self._claims_clash(claimed, item.email, item.channel_ids)
                if not free:
                    duplicates.append(item.email)
                claimed.append((normalize_email(item.email), item.channel_ids))
                return free and not problems

            saved_counters = dict(self._counters)
            built, errors, first_bad = self._vet_batch(
                parsed, V3CustomerPost, vet, lambda item: customer_from_v3(item, moment, self._next)
            )
            if first_bad is None:
                self._commit(built)
                self.account_created_emails += sum(
                    1 for item in parsed if getattr(item[0], "trigger_account_created_notification", None)
                )
                return [c.to_v3() for c in built]
            if not non_atomic:
                self._counters = saved_counters
            if duplicates:
                errors[".customer_create"] = "Error creating customers. " + _in_use(duplicates)
            title = V3_VALIDATION_TITLE if not duplicates else "Create customers failed."
            raise self._reject_batch(built, errors, title, non_atomic=non_atomic)

    def v3_update_customers(self, body: Any, *, non_atomic: bool = False) -> list[dict[str, Any]]:
        """Update a batch of 1..10 ``customer_Put`` by id; 422 for an unknown id or an e-mail in use."""
        _refuse_subresources(body)
        parsed = parse_v3_items(body, V3CustomerPut)
        non_atomic = non_atomic or self.config.non_atomic_batches
        with self.lock:
            duplicates: list[str] = []
            claimed: dict[str, int] = {}

            def vet(index: int, item: V3CustomerPut, errors: dict[str, str]) -> bool:
                current = self._customers.get(item.id)
                if current is None:
                    errors[f"{index}.id"] = f"Customer with id {item.id} was not found."
                    return False
                problems = self._rule_problems(
                    index, {**current.to_v3(), **item.model_dump(exclude_unset=True)}
                )
                problems.update(self._form_field_problems(index, item))
                errors.update(problems)
                if problems:
                    return False
                moves = self.config.msf and "channel_ids" in item.model_fields_set
                if item.email is None and not moves:
                    return True
                email = item.email or current.email
                key = normalize_email(email)
                channels = item.channel_ids if "channel_ids" in item.model_fields_set else current.channel_ids
                free = not self._email_taken(email, channels, other_than=item.id)
                free = free and claimed.get(key, item.id) == item.id
                if not free:
                    duplicates.append(email)
                claimed[key] = item.id
                return free

            def build(item: V3CustomerPut) -> Customer:
                return customer_updated(self._customers[item.id], item, self._now())

            updated, errors, first_bad = self._vet_batch(parsed, V3CustomerPut, vet, build)
            if first_bad is None:
                self._commit(updated)
                return [c.to_v3() for c in updated]
            if duplicates:
                errors[".customer_update"] = "Error updating customers. " + _in_use(duplicates)
            raise self._reject_batch(updated, errors, "Update customers failed.", non_atomic=non_atomic)

    def v3_list_customers(self, query: Mapping[str, str]) -> dict[str, Any]:
        """List customers by id with ``email:in``, ``id:in``, ``date_*:min|max``, ``page``, ``limit``."""
        wanted = v3_list_query(query)
        with self.lock:
            found = self._sorted(wanted.keep)
            data = [
                self._with_segments(c.to_v3(include=wanted.include), wanted.include)
                for c in wanted.window(found)
            ]
        return {"data": data, "meta": {"pagination": wanted.pagination(len(found), len(data))}}

    def _with_segments(self, customer: dict[str, Any], include: frozenset[str]) -> dict[str, Any]:
        """Add ``shopper_profile_id``/``segment_ids`` when included (beta; Enterprise stores only)."""
        if not self.config.segments_enabled or not include & {"shopper_profile_id", "segment_ids"}:
            return customer
        profile, segment_ids = self.segments.membership(customer["id"])
        if "shopper_profile_id" in include:
            customer["shopper_profile_id"] = profile
        if "segment_ids" in include:
            customer["segment_ids"] = segment_ids
        return customer


def _refuse_subresources(body: Any) -> None:
    """Refuse ``addresses``/``attributes`` in ``PUT /v3/customers``, as BigCommerce does."""
    if not isinstance(body, list):
        return
    errors = {
        f"{index}.{name}": "Subresource updates are not supported; use the addresses or attribute-values API."
        for index, item in enumerate(body)
        if isinstance(item, dict)
        for name in _SUBRESOURCES
        if name in item
    }
    if errors:
        raise v3_error(422, "Subresource updates are not supported.", errors)
