"""
The demo CRM's made-up contacts, with the mess real CRM exports carry, and what a sync should make of them.

Deterministic from a seed number: mixed-case and padded e-mails, one person entered twice with a
differently cased address, missing last names, invalid e-mails and phones, over-long and non-ASCII
names; postal addresses with state codes in any case and country names, some without a street or a
city; a lifecycle stage naming a store customer group (:data:`STORE_GROUPS`, now and then one the
store lacks), a CRM id for the store attribute ``crm_id`` and a newsletter opt-in written as people
write flags. :class:`SeedStats` says which row should create which customer. Standard library only;
:mod:`.crm` writes the rows to SQLite.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

#: The format of ``created_at`` / ``updated_at``: sortable as text.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
#: Seeded contacts are spread over this many days before ``now``.
SPREAD_DAYS = 30
_FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mason", "Amelia", "Ethan", "Harper", "Logan", "Evelyn", "Aiden", "Abigail", "Jackson",
    "Grace", "Samuel", "Chloe", "Daniel", "Nora", "Henry", "Layla", "Owen", "Riley", "Wyatt",
)  # fmt: skip
_LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
)  # fmt: skip
#: (first, last) pairs outside ASCII: accents, other scripts, combining-free NFC text.
_NON_ASCII_NAMES = (
    ("Zoë", "Brontë"), ("José", "Muñoz"), ("Łukasz", "Wróbel"), ("Søren", "Kierkegård"),
    ("Ångström", "Öberg"), ("François", "Lefèvre"), ("Jürgen", "Müller"), ("Nguyễn", "Thị Hoa"),
    ("李", "小龙"), ("Дмитрий", "Иванов"), ("Αλέξανδρος", "Παπαδόπουλος"), ("Siobhán", "Ó Briain"),
)  # fmt: skip
_COMPANIES = (
    "Acme Corp", "Globex", "Initech", "Umbrella Retail", "Hooli", "Stark Industries", "Wayne Enterprises",
    "Soylent", "Vandelay Industries", "Wonka Foods", "Tyrell", "Cyberdyne", "Gringotts", "Pied Piper",
)  # fmt: skip
_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "shop.example.org")
#: The customer groups the demo store holds (seeded before a sync); ``lifecycle_stage`` names them.
STORE_GROUPS = ("Wholesale", "Retail", "VIP")
#: The customer attributes the demo store holds (seeded before a sync): ``crm_id`` <- column ``crm_id``.
STORE_ATTRIBUTES = ({"name": "crm_id", "type": "string"},)
#: ``lifecycle_stage`` as typed in the CRM -> the store group it names (``None``: no stage, no group).
_STAGES: tuple[tuple[str | None, str | None], ...] = (
    ("Retail", "Retail"), ("retail", "Retail"), ("Retail ", "Retail"), ("RETAIL", "Retail"),
    ("Wholesale", "Wholesale"), ("wholesale", "Wholesale"), ("VIP", "VIP"), ("vip", "VIP"),
    (None, None), ("", None),
)  # fmt: skip
#: A stage the store has no group for: its rows are rejected with the reason.
UNKNOWN_STAGE = "Partner"
#: ``newsletter_opt_in`` as typed -> the consent it means (``None``: blank, consent left alone): a
#: quarter opt in, a quarter opt out, half never answered (each subscriber costs one request).
_OPT_INS: tuple[tuple[str | None, bool | None], ...] = (
    ("yes", True), ("Yes", True), ("true", True), ("1", True), ("Y", True),
    ("no", False), ("No", False), ("false", False), ("0", False), ("N", False),
    *((None, None),) * 7, *(("", None),) * 3,
)  # fmt: skip
_STREETS = ("Main St", "Oak Avenue", "Elm Street", "Market St", "High Street", "Hauptstraße", "King St W")


@dataclass(frozen=True)
class Place:
    """
    A city as the CRM spells it, and what the store must show after normalisation.

    :param state: as typed (code in any case, full name, or ``None`` where the country has none).
    :param country: as typed (English name in any case, or ISO code).
    :param state_name: the full subdivision name the store gets (``""`` for none).
    :param country_code: the ISO 3166-1 alpha-2 code the store gets.
    """

    city: str
    state: str | None
    postal_code: str
    country: str
    state_name: str
    country_code: str


PLACES = (
    Place("Austin", "TX", "78701", "United States", "Texas", "US"),
    Place("San Francisco", "ca", "94103", "US", "California", "US"),
    Place("New York", "New York", "10001", "united states", "New York", "US"),
    Place("Seattle", "wa", "98101", "USA", "Washington", "US"),
    Place("Berlin", None, "10115", "germany", "", "DE"),
    Place("München", None, "80331", "Germany", "", "DE"),
    Place("London", None, "SW1A 1AA", "UK", "", "GB"),
    Place("Manchester", None, "M1 1AE", "United Kingdom", "", "GB"),
    Place("Sydney", "NSW", "2000", "Australia", "New South Wales", "AU"),
    Place("Toronto", "on", "M5H 2N2", "canada", "Ontario", "CA"),
)
_INVALID_EMAILS = (
    "john.doe@",
    "no-at-sign.example.com",
    "two@@example.com",
    "with space@example.com",
    "nodot@localhost",
    "",
    "   ",
    "<angle@example.com>",
)
_INVALID_PHONES = ("call me maybe", "ext. ask reception", "555-CALL-NOW")


@dataclass(frozen=True)
class SeedStats:
    """
    What :func:`seed_crm` wrote, and what a correct sync must make of it.

    :param path: the SQLite file.
    :param total: rows in ``contacts``.
    :param expected_customers: lower-cased e-mail -> id of the row that creates the customer (the
        first row of that e-mail in ``updated_at, id`` order).
    :param invalid: id -> the customer field that makes the row invalid (``email``, ``last_name``,
        ``first_name`` or ``phone``).
    :param duplicates: id -> id of the earlier row with the same e-mail in another case or padding.
    :param oldest: the smallest ``updated_at``; ``newest``: the largest.
    :param places: id -> the :class:`Place` of each row with a complete address.
    :param address_skipped: id -> the address field a row lacks (``address1`` or ``city``): its
        address is skipped, its customer still synced.
    :param groups: id -> the store group the row's ``lifecycle_stage`` names.
    :param newsletter: id -> the consent its ``newsletter_opt_in`` asks for (blank rows absent).
    :param customers_without_groups: like ``expected_customers``, for a sync that does not map
        ``lifecycle_stage`` to ``customer_group`` (rows naming an unknown stage are then valid).
    """

    path: str
    total: int
    expected_customers: dict[str, int] = field(repr=False)
    invalid: dict[int, str] = field(repr=False)
    duplicates: dict[int, int] = field(repr=False)
    oldest: str = ""
    newest: str = ""
    places: dict[int, Place] = field(default_factory=dict, repr=False)
    address_skipped: dict[int, str] = field(default_factory=dict, repr=False)
    groups: dict[int, str] = field(default_factory=dict, repr=False)
    newsletter: dict[int, bool] = field(default_factory=dict, repr=False)
    customers_without_groups: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def valid_unique(self) -> int:
        """Return how many customers a full sync creates."""
        return len(self.expected_customers)


def format_ts(moment: datetime) -> str:
    """Write an aware (or naive UTC) datetime as the CRM's UTC text timestamp."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime(TIMESTAMP_FORMAT)


def as_utc(moment: datetime | None) -> datetime:
    """Return ``moment`` as an aware UTC time (the current time, to the second, for ``None``)."""
    if moment is None:
        return datetime.now(timezone.utc).replace(microsecond=0)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _address(rng: random.Random) -> tuple[dict[str, Any], Place | None, str | None]:
    """Return address columns, the place of a complete address, and the field an incomplete one lacks."""
    roll = rng.random()
    place = rng.choice(PLACES)
    number = rng.randrange(1, 999)
    street = rng.choice((f"{number} {rng.choice(_STREETS)}", f" {number}  {rng.choice(_STREETS)} "))
    columns = {
        "street": street,
        "city": place.city,
        "state": place.state,
        "postal_code": place.postal_code,
        "country": place.country,
    }
    if roll < 0.08:  # no address in the CRM at all: no address part
        return dict.fromkeys(columns), None, None
    if roll < 0.12:
        return {**columns, "street": rng.choice((None, "", " "))}, None, "address1"
    if roll < 0.14:
        return {**columns, "city": None}, None, "city"
    return columns, place, None


@dataclass
class _PartsSeen:
    """The parts drawn so far and what the store must make of them (see :class:`SeedStats`)."""

    places: dict[int, Place] = field(default_factory=dict)
    address_skipped: dict[int, str] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)
    newsletter: dict[int, bool] = field(default_factory=dict)

    def draw(self, rng: random.Random, contact_id: int) -> dict[str, Any]:
        """Return one contact's address, stage and opt-in columns, remembering what they mean."""
        columns, place, missing = _address(rng)
        if place is not None:
            self.places[contact_id] = place
        if missing is not None:
            self.address_skipped[contact_id] = missing
        columns["lifecycle_stage"], group = rng.choice(_STAGES)
        if group is not None:
            self.groups[contact_id] = group
        columns["newsletter_opt_in"], consent = rng.choice(_OPT_INS)
        if consent is not None:
            self.newsletter[contact_id] = consent
        return columns


def _clean_contact(rng: random.Random, index: int) -> dict[str, Any]:
    first = rng.choice(_FIRST_NAMES)
    last = rng.choice(_LAST_NAMES)
    domain = rng.choice(_DOMAINS)
    phone = (
        None
        if rng.random() < 0.2
        else rng.choice(("+1 (555) 0{:02d}-{:04d}", "555.0{:02d}.{:04d}", "+44 20 7{:02d} {:04d}")).format(
            rng.randrange(100), rng.randrange(10_000)
        )
    )
    return {
        "email": f"{first.lower()}.{last.lower()}{index}@{domain}",
        "first_name": first,
        "last_name": last,
        "phone": phone,
        "company": None if rng.random() < 0.3 else rng.choice(_COMPANIES),
        "crm_id": str(5_100_000 + index),  # like HubSpot's hs_object_id
    }


def _messy_email(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    style = rng.randrange(3)
    if style == 0:
        return f"  {local.title()}@{domain.upper()} "
    if style == 1:
        return f"{local}@{domain.title()}\t"
    return email.upper()


def _spoil(
    rng: random.Random, contact: dict[str, Any], rows: list[dict[str, Any]], invalid: Mapping[int, str]
) -> str | None:
    """Give about 1 row in 7 the mess of real exports; return the field that makes it invalid, if any."""
    roll = rng.random()
    if roll < 0.04:
        contact["email"] = _messy_email(rng, contact["email"])
    elif roll < 0.08:
        contact["first_name"], contact["last_name"] = rng.choice(_NON_ASCII_NAMES)
    elif roll < 0.10:
        contact["first_name"] = f"  {contact['first_name']} "  # padded, trimmed by the sync
    elif roll < 0.115:
        contact["last_name"] = rng.choice((None, "", "  "))
        return "last_name"
    elif roll < 0.13:
        contact["email"] = rng.choice(_INVALID_EMAILS)
        return "email"
    elif roll < 0.135:
        contact["first_name"] = (contact["first_name"] + " ") * 30  # well over 100 characters
        return "first_name"
    elif roll < 0.14:
        contact["phone"] = rng.choice(_INVALID_PHONES)
        return "phone"
    elif roll < 0.15 and rows:
        earlier = rng.choice(rows)  # the same person entered again, address typed differently
        if earlier["id"] not in invalid:
            contact["email"] = _messy_email(rng, earlier["email"].strip().lower())
    elif roll < 0.155:
        contact["lifecycle_stage"] = UNKNOWN_STAGE  # a stage the store has no group for
        return "customer_group"
    return None


def generate_contacts(n: int, *, seed: int, now: datetime) -> tuple[list[dict[str, Any]], SeedStats]:
    """
    Build ``n`` contact rows (without writing them) and the expectations for a sync.

    About 1 in 10 rows is messy but valid (case, padding, non-ASCII), about 1 in 25 is invalid, about
    1 in 100 repeats an earlier contact's e-mail in another case and 1 in 200 names a group the
    store lacks; about 1 in 16 has an address without street or city, 1 in 12 none at all.
    """
    if n < 0:
        raise ValueError(f"n must be 0 or more, got {n}")
    rng = random.Random(seed)
    now = as_utc(now)
    span = SPREAD_DAYS * 86_400
    rows: list[dict[str, Any]] = []
    invalid: dict[int, str] = {}
    parts = _PartsSeen()
    for contact_id in range(1, n + 1):
        contact = _clean_contact(rng, contact_id)
        contact.update(parts.draw(rng, contact_id))
        created = now - timedelta(seconds=rng.randrange(60, span))
        updated = created
        if rng.random() < 0.3:  # edited later, still before now
            updated = created + timedelta(seconds=rng.randrange(0, int((now - created).total_seconds())))
        bad_field = _spoil(rng, contact, rows, invalid)
        if bad_field is not None:
            invalid[contact_id] = bad_field
            parts.groups.pop(contact_id, None)
        rows.append(
            {
                "id": contact_id,
                **contact,
                "created_at": format_ts(created),
                "updated_at": format_ts(updated),
            }
        )
    without_groups = {i: f for i, f in invalid.items() if f != "customer_group"}
    stats = replace(
        _expectations(rows, invalid, ""),
        customers_without_groups=_expectations(rows, without_groups, "").expected_customers,
        places=parts.places,
        address_skipped=parts.address_skipped,
        groups=parts.groups,
        newsletter=parts.newsletter,
    )
    return rows, stats


def _expectations(rows: Iterable[Mapping[str, Any]], invalid: Mapping[int, str], path: str) -> SeedStats:
    """Work out which row creates each customer and which rows repeat an e-mail, in sync order."""
    ordered = sorted(rows, key=lambda r: (r["updated_at"], r["id"]))
    first_of: dict[str, int] = {}
    duplicates: dict[int, int] = {}
    for row in ordered:
        if row["id"] in invalid:
            continue
        key = str(row["email"]).strip().lower()
        if key in first_of:
            duplicates[row["id"]] = first_of[key]
        else:
            first_of[key] = row["id"]
    return SeedStats(
        path=path,
        total=len(ordered),
        expected_customers=first_of,
        invalid=dict(invalid),
        duplicates=duplicates,
        oldest=ordered[0]["updated_at"] if ordered else "",
        newest=ordered[-1]["updated_at"] if ordered else "",
    )
