"""
The BigCommerce API's wire facts, each named once: limits, statuses, and the rules that follow.

Hooks, models, the sandbox and the sync engine import these instead of restating them, so a fact
the store changes is changed here alone. Each cites where it comes from: the OpenAPI files and notes
in the project's ``bigcommerce-specs`` folder (``customers.v3.yml``, ``customers.v2.yml``,
``subscribers.v3.yml``, ``SOURCE.md``). Standard library only: operators may import it at DAG parse.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TypeVar
from urllib.parse import quote_plus

T = TypeVar("T")

# -- where -------------------------------------------------------------------------------------------

#: Where the REST API lives (SOURCE.md "Auth": ``https://api.bigcommerce.com/stores/{store_hash}/...``).
DEFAULT_API_HOST = "https://api.bigcommerce.com"
#: What a store hash looks like: the path segment after ``/stores/`` (letters and digits only).
STORE_HASH_PATTERN = "^[A-Za-z0-9]+$"
#: A path segment that is a resource id: numeric (customers, addresses) or a UUID (segments, shopper
#: profiles, segments.v3.yml ``format: uuid``). Endpoint keys such as ``"PUT /v3/customers/{id}"`` put
#: ``{id}`` in its place.
PATH_ID_PATTERN = r"\d+|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
#: The channel every store has; its ``allow_global_logins`` is true by default (SOURCE.md "Multi-Storefront").
DEFAULT_CHANNEL_ID = 1

# -- rate-limit headers (SOURCE.md "Rate limits"; names are case-insensitive) -------------------------

#: Requests left in the current window.
HEADER_REQUESTS_LEFT = "X-Rate-Limit-Requests-Left"
#: Milliseconds until the window resets.
HEADER_TIME_RESET_MS = "X-Rate-Limit-Time-Reset-Ms"
#: The window's length, milliseconds.
HEADER_TIME_WINDOW_MS = "X-Rate-Limit-Time-Window-Ms"
#: Requests per window.
HEADER_REQUESTS_QUOTA = "X-Rate-Limit-Requests-Quota"
#: Seconds to wait, on some 429s.
HEADER_RETRY_AFTER = "X-Retry-After"
#: Methods that read. BigCommerce's outages often hit writes while reads keep working (SOURCE.md), so
#: the hook's outage policy and the sandbox's outage model keep reads and writes apart.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# -- items per request ---------------------------------------------------------------------------

#: ``POST``/``PUT /v3/customers`` take at most 10 customers (customers.v3.yml: "Limit of 10 customers
#: per call"; an 11th answers 413).
CUSTOMER_BATCH_SIZE = 10
#: Addresses per ``POST``/``PUT /v3/customers/addresses``. customers.v3.yml gives no per-call limit
#: ("Multiple customer addresses can be ... in one call"); 10, the V3 batch size, is what the sandbox
#: enforces and the hook sends (as many as one new customer may carry inline).
ADDRESS_BATCH_SIZE = 10
#: ``PUT /v3/customers/attribute-values`` takes at most 10 values per call (customers.v3.yml
#: upsertCustomersAttributeValues: "Limit of 10 customers per call"; SOURCE.md "Nested data").
ATTRIBUTE_VALUE_BATCH_SIZE = 10
#: ``customer_Post.addresses`` and ``.attributes``: ``maxItems: 10`` each (customers.v3.yml).
INLINE_ADDRESSES_MAX = 10
INLINE_ATTRIBUTES_MAX = 10

# -- pages -------------------------------------------------------------------------------------------

#: Largest ``limit`` of the V3 list endpoints (SOURCE.md "``limit`` (max 250)") and of V2's
#: (customers.v2.yml: "The maximum limit is 250").
MAX_PAGE_SIZE = 250
#: The ``limit`` a list endpoint uses when none is sent (customers.v2.yml: "up to 50 ... by default").
DEFAULT_PAGE_SIZE = 50

# -- e-mail look-ups (GET /v3/customers?email:in=) ---------------------------------------------------

#: Most e-mails one ``GET /v3/customers?email:in=...`` look-up carries. The spec caps no ``email:in``
#: list; ``limit`` is at most 250 per page, and an e-mail matches at most one customer of a store (one
#: per channel under Multi-Storefront, where the hook pages on), so 250 e-mails answer in one page.
LOOKUP_BATCH_SIZE = MAX_PAGE_SIZE
#: Longest ``email:in`` value one look-up sends, counted percent-encoded as it goes on the wire
#: (``@`` and ``,`` take 3 characters each): with the store's path and the other parameters the URL
#: stays under 7.2 KB, clear of the 8 KB request-line limits of common servers and proxies.
MAX_LOOKUP_CHARS = 7000
#: Most ids one ``GET /v3/customers?id:in=...`` look-up carries (customers.v3.yml ``id:in``, a comma
#: list): an id names one customer, so 250 answer in one page; 250 ids of 10 digits keep the URL short.
ID_LOOKUP_BATCH_SIZE = MAX_PAGE_SIZE
#: Customer ids per ``customer_id:in`` address look-up: each has at most 10 addresses, so the
#: addresses of 25 customers always fit one page of 250.
ADDRESS_LOOKUP_CUSTOMERS = MAX_PAGE_SIZE // INLINE_ADDRESSES_MAX

# -- attributes --------------------------------------------------------------------------------------

#: ``customerAttributes_Base.attribute_value``: ``maxLength: 255`` (customers.v3.yml); the sandbox
#: holds ``PUT /v3/customers/attribute-values`` values to the same.
ATTRIBUTE_VALUE_MAX_LENGTH = 255
#: ``/v3/customers/attributes`` names: 1..255 characters (customers.v3.yml ``attribute_Post.name``).
ATTRIBUTE_NAME_MAX_LENGTH = 255
#: "A store cannot have more than 50 customer attributes" (customers.v3.yml ``/customers/attributes``).
MAX_STORE_ATTRIBUTES = 50

# -- form fields, store credit, metafields (customers.v3.yml, SOURCE.md "Form fields, store credit") --
#: ``formFieldValue.name``: the sandbox holds names to 255 characters (the spec gives no limit).
FORM_FIELD_NAME_MAX_LENGTH = 255
#: A form field value as text: the spec gives no length; 255, as an attribute value, is what the
#: sandbox enforces and the value rules check.
FORM_FIELD_VALUE_MAX_LENGTH = 255
#: ``CustomerStoredCreditAmounts.amount``: a non-negative number; the store keeps two decimal places.
STORE_CREDIT_PLACES = 2
#: ``MetafieldBase_Post.namespace`` and ``.key``: 1..64 characters (customers.v3.yml).
METAFIELD_NAMESPACE_MAX_LENGTH = 64
METAFIELD_KEY_MAX_LENGTH = 64
#: ``MetafieldBase_Post.value``: 1..65535 characters (customers.v3.yml): an empty value cannot be
#: written, so clearing a metafield deletes it.
METAFIELD_VALUE_MAX_LENGTH = 65535
#: ``MetafieldBase_Post.description``: at most 255 characters.
METAFIELD_DESCRIPTION_MAX_LENGTH = 255
#: ``MetafieldBase_Post.permission_set`` values; ``app_only`` keeps a metafield private to the API account.
METAFIELD_PERMISSION_SETS = ("app_only", "read", "write", "read_and_sf_access", "write_and_sf_access")
DEFAULT_METAFIELD_PERMISSION = "app_only"
#: Metafields per batch ``POST``/``PUT``/``DELETE /v3/customers/metafields``. The spec names no
#: per-call limit; 50 is what the sandbox enforces and the hook sends.
METAFIELD_BATCH_SIZE = 50
#: Customer ids per ``GET /v3/customers/metafields?resource_id:in=`` look-up.
METAFIELD_LOOKUP_CUSTOMERS = 50

# -- customer segmentation (segments.v3.yml; SOURCE.md: Enterprise plans only) -----------------------
#: "Max total segments allowed per store is 1000" (segments.v3.yml ``POST /segments``).
MAX_STORE_SEGMENTS = 1000
#: "Limit of *Shopper Profiles* per request is 50" (``POST /segments/{id}/shopper-profiles``).
SEGMENT_PROFILES_BATCH_SIZE = 50
#: "Limit of 10 concurrent requests" on the segment writes.
SEGMENT_CONCURRENCY = 10
#: Segments per ``POST``/``PUT /v3/segments`` and profiles per ``POST /v3/shopper-profiles``, as the
#: sandbox enforces and the hook sends (the spec names no per-call limit).
SEGMENT_BATCH_SIZE = 50
SHOPPER_PROFILE_BATCH_SIZE = 50
#: Ids per ``id:in`` of the segmentation deletes (a URL of 50 UUIDs stays under 2 KB).
SEGMENT_ID_BATCH_SIZE = 50
#: What the Segmentation API answers on a plan below Enterprise (SOURCE.md: "other plans: the API is
#: unavailable"): 403, as for any feature the plan lacks, or 404 where the routes are absent.
NO_SEGMENTS_STATUSES = frozenset({403, 404})

# -- requests in flight ------------------------------------------------------------------------------

#: Requests in flight per store that BigCommerce documents for some endpoints, keyed ``"METHOD /path"``
#: (customers.v3.yml: "Limit of 3 concurrent requests" on ``PUT /customers``, ``PUT /customers/addresses``
#: and ``PUT /customers/attribute-values``; "10 concurrent requests" on ``POST /customers/addresses``).
#: Beyond them the store answers 429 while the window still has requests left.
CONCURRENCY_CAPS: Mapping[str, int] = MappingProxyType(
    {
        "PUT /v3/customers": 3,
        "PUT /v3/customers/addresses": 3,
        "POST /v3/customers/addresses": 10,
        "PUT /v3/customers/attribute-values": 3,
        # segments.v3.yml: "Limit of 10 concurrent requests" (SOURCE.md: "10 requests at once per endpoint").
        "POST /v3/segments": SEGMENT_CONCURRENCY,
        "PUT /v3/segments": SEGMENT_CONCURRENCY,
        "POST /v3/segments/{id}/shopper-profiles": SEGMENT_CONCURRENCY,
    }
)
#: Most requests one run keeps in flight: the store's quota is shared (SOURCE.md "Rate limits"), so
#: beyond this more parallel writes only buy 429s. Not a documented limit: the adaptive maximum.
MAX_IN_FLIGHT = 8

# -- statuses ----------------------------------------------------------------------------------------

#: 401 bad token, 403 missing scope (SOURCE.md "Auth"): no later request can succeed, so a run stops.
FATAL_STATUSES = frozenset({401, 403})
#: What the V2 customer group endpoints answer on a plan without groups (SOURCE.md: "only on Plus
#: plans and above").
NO_GROUPS_STATUSES = frozenset({403, 404})
#: What ``GET /v3/customers/settings/channels/{id}`` answers for a channel the store does not have.
UNKNOWN_CHANNEL_STATUSES = frozenset({404, 422})
#: A duplicate e-mail: "no official status code. Expect 409 (V2) or 422 with 'already in use'"
#: (SOURCE.md); subscribers.v3.yml answers 409 on a duplicate e-mail as well.
CONFLICT_STATUS = 409
#: Phrases of the store's messages that say an e-mail (or name) is taken already.
IN_USE_PHRASES = ("already in use", "already exists")


def email_in_use_text(status: int, messages: Iterable[str]) -> str:
    """
    Return the lower-cased messages of a refusal that say an e-mail is already taken, or ``""``.

    The store has no status for it (SOURCE.md): V3 answers 422 with "already in use" in its errors,
    V2 and the subscribers answer 409. So a message saying so counts, and a bare 409 always does
    (its messages, or ``"409"``, are returned). The text names the e-mails the store listed, so a
    caller can tell which rows of a refused batch it meant.

    :param status: the refusal's HTTP status.
    :param messages: its title and error messages (V3 ``title`` and ``errors`` values, V2 ``message``).
    """
    texts = [text for text in messages if text]
    hits = [text.lower() for text in texts if any(p in text.lower() for p in IN_USE_PHRASES)]
    if status == CONFLICT_STATUS and not hits:
        hits = [text.lower() for text in texts] or [str(CONFLICT_STATUS)]
    return " ".join(hits)


# -- waiting -----------------------------------------------------------------------------------------


def backoff_seconds(
    attempt: int, *, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None
) -> float:
    """
    Return a jittered exponential backoff for the 1-based ``attempt``: doubling from ``base``, capped.

    The wait is drawn from the upper half of ``[0, min(cap, base * 2**(attempt-1))]`` (AWS
    architecture blog's jitter), so senders that failed together do not come back together.
    """
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


# -- grouping e-mails into look-ups ------------------------------------------------------------------


def lookup_values(emails: Iterable[str]) -> list[str]:
    """
    Return the ``email:in`` values that find ``emails``: each as given and lower-cased (trimmed), once.

    The store treats e-mails case-insensitively, but its filter may not.
    """
    values: dict[str, None] = {}
    for raw in emails:
        email = raw.strip()
        if email:
            values.update(dict.fromkeys((email, email.lower())))
    return list(values)


def group_lookups(
    emails: Iterable[str], *, max_emails: int = LOOKUP_BATCH_SIZE, max_chars: int = MAX_LOOKUP_CHARS
) -> list[list[str]]:
    """
    Split e-mails into look-up groups, one ``GET`` each (trimmed; one already looked up is left out).

    A group holds at most ``max_emails`` e-mails, so its answer fits one page, and its
    :func:`lookup_values` joined by commas take at most ``max_chars`` characters percent-encoded.
    The engine and the hook group alike, so a group the engine hands over goes out as one request.
    """
    groups: list[list[str]] = []
    current: list[str] = []
    in_group: set[str] = set()
    sent: set[str] = set()
    size = 0
    for raw in emails:
        email = raw.strip()
        values = lookup_values([email])
        if not values or sent.issuperset(values):
            continue
        if current and (len(current) >= max_emails or size + _encoded(values, in_group) > max_chars):
            groups.append(current)
            current, in_group, size = [], set(), 0
        size += _encoded(values, in_group)
        current.append(email)
        in_group.update(values)
        sent.update(values)
    if current:
        groups.append(current)
    return groups


def lookup_groups(emails: Iterable[str]) -> list[list[str]]:
    """
    Return the ``email:in`` values of each look-up ``GET`` for ``emails``, grouped by :func:`group_lookups`.

    At most :data:`LOOKUP_BATCH_SIZE` e-mails (their customers fit one page of 250) and
    :data:`MAX_LOOKUP_CHARS` once percent-encoded, so the URL stays under 8 KB. Each e-mail goes as
    given and lower-cased (trimmed): the store treats e-mails case-insensitively, but its filter may not.
    """
    return [lookup_values(group) for group in group_lookups(emails)]


def batches(items: Sequence[T], size: int) -> list[list[T]]:
    """Split ``items`` into the batches an endpoint takes: at most ``size`` each, in order."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def group_ids(ids: Iterable[int], size: int = ID_LOOKUP_BATCH_SIZE) -> list[list[int]]:
    """Split customer ids into ``id:in`` look-up groups of at most ``size`` (each id once, in order)."""
    return batches(list(dict.fromkeys(ids)), size)


def _encoded(values: Iterable[str], known: set[str]) -> int:
    """Characters the values new to a group add to its ``email:in``: each and its comma (``%2C``)."""
    return sum(len(quote_plus(v)) + 3 for v in values if v not in known)
