"""
``on_rejections``: tell someone when a sync completes but the store refused some of its rows.

A run that settles every row but rejects a few is green, yet someone must fix those rows in the CRM.
The operator's ``on_rejections`` takes either a callable ``(context, summary)`` or an Airflow notifier
(``BaseNotifier``: the Slack, e-mail, SMTP notifiers users already give to ``on_failure_callback``),
called once when the run's status is ``completed with rejections``. A notifier is called with the
task's context plus the summary under :data:`SUMMARY_CONTEXT_KEY`, so its templates can say
``{{ bigcommerce_summary.rejected }} of {{ bigcommerce_summary.total }} rows rejected``.

Light at module level: a DAG file naming the operator imports this without Airflow's notifier classes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from airflow_bigcommerce.sync.result import COMPLETED_WITH_REJECTIONS

#: The context key a notifier's templates read the run's summary from.
SUMMARY_CONTEXT_KEY = "bigcommerce_summary"

#: What ``on_rejections`` takes: a callable ``(context, summary)``, or a notifier (called with the context).
OnRejections = Callable[..., Any]


def check_on_rejections(on_rejections: object) -> None:
    """Refuse at parse what cannot be called: ``on_rejections`` is a callable or a notifier."""
    if on_rejections is not None and not callable(on_rejections):
        raise TypeError(
            "on_rejections must be a callable (context, summary) or an Airflow notifier "
            f"(BaseNotifier), got {type(on_rejections).__name__}"
        )


def is_notifier(on_rejections: object) -> bool:
    """Return whether ``on_rejections`` is an Airflow notifier (called with the context alone)."""
    from airflow.sdk import BaseNotifier

    return isinstance(on_rejections, BaseNotifier)


def notify_rejections(
    on_rejections: OnRejections | None,
    context: Mapping[str, Any],
    summary: Mapping[str, Any],
    log: logging.Logger | logging.LoggerAdapter[Any] | Any,
) -> bool:
    """
    Call ``on_rejections`` when the run completed with rejections; return whether it was called.

    An exception in it is logged, not raised: by then every row is settled and the report written,
    so failing the task would paint a delivered run red, and Airflow's retry would sync again only to
    hit the same broken alert channel (a Slack outage, a wrong webhook). The log says the alert was
    not sent; the summary and the view still show the rejections.
    """
    if on_rejections is None or summary.get("status") != COMPLETED_WITH_REJECTIONS:
        return False
    try:
        if is_notifier(on_rejections):
            on_rejections({**context, SUMMARY_CONTEXT_KEY: dict(summary)})
        else:
            on_rejections(context, dict(summary))
    except Exception:
        log.exception(
            "on_rejections failed (%s rows were rejected); no alert was sent, the run's result stands",
            summary.get("rejected"),
        )
    return True
