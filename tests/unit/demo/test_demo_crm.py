"""The demo CRM's parts columns and the demo's part summary, without a store."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from airflow_bigcommerce.demo.crm import PLACES, STORE_GROUPS, UNKNOWN_STAGE, generate_contacts
from airflow_bigcommerce.demo.report import format_parts, read_report, sample_rejected
from airflow_bigcommerce.models.address import normalize_address

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)


def test_places_normalise_to_what_the_stats_promise() -> None:
    for place in PLACES:
        values = {
            "address1": "1 Main St",
            "city": place.city,
            "state_or_province": place.state,
            "postal_code": place.postal_code,
            "country_code": place.country,
        }
        address = normalize_address(values, first_name="A", last_name="B")
        assert address is not None
        assert (address["state_or_province"], address["country_code"]) == (
            place.state_name,
            place.country_code,
        )


def test_generated_parts_match_their_expectations() -> None:
    rows, stats = generate_contacts(600, seed=5, now=NOW)
    by_id = {row["id"]: row for row in rows}
    assert stats.places and stats.address_skipped and stats.newsletter
    assert not set(stats.places) & set(stats.address_skipped)
    for contact_id, missing in stats.address_skipped.items():
        column = {"address1": "street", "city": "city"}[missing]
        assert not (by_id[contact_id][column] or "").strip()
    for contact_id, group in stats.groups.items():
        assert group in STORE_GROUPS
        assert by_id[contact_id]["lifecycle_stage"].strip().casefold() == group.casefold()
    unknown = {cid for cid, row in by_id.items() if row["lifecycle_stage"] == UNKNOWN_STAGE}
    assert unknown and all(stats.invalid[cid] == "customer_group" for cid in unknown)


def test_format_parts_counts_statuses_and_skip_reasons(tmp_path: Path) -> None:
    lines = [
        {"customer": "created", "address": "created", "newsletter": "subscribed"},
        {"customer": "created", "address": "skipped: no city", "newsletter": "unchanged"},
        {"customer": "created", "address": "skipped: no address1"},
        {"customer": "skipped: unchanged", "address": "skipped: no city"},
    ]
    report = tmp_path / "run.jsonl"
    report.write_text(
        "".join(
            json.dumps({"row": str(i), "email": None, "outcome": "created", "reason": None, "parts": parts})
            + "\n"
            for i, parts in enumerate(lines)
        ),
        encoding="utf-8",
    )
    text = format_parts(read_report(report))
    assert "address     skipped 3 (no city 2, no address1 1), created 1" in text
    assert "newsletter  subscribed 1, unchanged 1" in text
    assert "customer" not in text


def test_sample_rejected_shows_every_field_first() -> None:
    rejected = [(str(i), "-", f"{'email' if i < 8 else 'customer_group'}: why") for i in range(10)]
    sample = sample_rejected(rejected, 3)
    assert [row for row, _, _ in sample] == ["0", "1", "8"]
    assert len(sample_rejected(rejected, 0)) == 0
