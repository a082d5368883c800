from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_profiles import scaled

from airflow_bigcommerce.sync.engine import sync_customers
from airflow_bigcommerce.sync.report import JsonlReportWriter
from airflow_bigcommerce.testing.in_process import InProcessStore

COLUMNS = [
    "id",
    "email",
    "first_name",
    "last_name",
    "company",
    "phone",
    "notes",
    "password",
    "customer_group_id",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=20),
    st.just("x" * 100_000),
    st.sampled_from(["a@example.com", " A@Example.COM ", "b@example.com", "Ann", "Lee", "", "   "]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)
keys = st.one_of(st.sampled_from(COLUMNS), st.text(max_size=10))
rows = st.lists(st.dictionaries(keys, values, max_size=8), max_size=25)


@settings(max_examples=scaled(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, mode=st.sampled_from(["insert", "upsert"]), dry_run=st.booleans(), chunk=st.integers(1, 7))
def test_arbitrary_rows_never_escape_and_the_invariant_holds(
    rows: list[dict[str, Any]], mode: Any, dry_run: bool, chunk: int
) -> None:
    store = InProcessStore(
        [{"email": "a@example.com", "first_name": "Old", "last_name": "Lee"}], reject_emails=["b@example.com"]
    )
    field_map = {c: c for c in COLUMNS if c != "id"}
    buf = io.StringIO()
    result = sync_customers(
        rows,
        store,
        field_map=field_map,
        mode=mode,
        dry_run=dry_run,
        chunk_size=chunk,
        report=JsonlReportWriter(buf),
    )
    assert result.total == len(rows)
    assert result.created + result.updated + result.skipped + result.rejected + result.failed == result.total
    assert len(buf.getvalue().splitlines()) == len(rows)
    json.dumps(result.to_dict())
    emails = [c["email"].strip().lower() for c in store.customers.values()]
    assert len(emails) == len(set(emails))
