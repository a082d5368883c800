"""
A notifier for ``on_rejections`` that writes to the task log: the example DAG's, and a template for others.

Any Airflow notifier works as ``on_rejections`` (``SlackNotifier``, ``SmtpNotifier``, ...): the run's
summary is in the context as ``bigcommerce_summary``, so a message template can name its counts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseNotifier

#: What :class:`LogRejectionsNotifier` writes unless told otherwise (a Jinja template).
DEFAULT_MESSAGE = (
    "BigCommerce sync {{ ti.dag_id }}.{{ ti.task_id }} completed with rejections: "
    "{{ bigcommerce_summary.rejected }} of {{ bigcommerce_summary.total }} rows rejected"
    "{% if bigcommerce_summary.report_path %}; report at {{ bigcommerce_summary.report_path }}{% endif %}"
)


class LogRejectionsNotifier(BaseNotifier):
    """
    Write one warning line to the task log when a sync completes with rejections.

    :param message: the line, a Jinja template over the task's context and ``bigcommerce_summary``.
    :param logger_name: the logger it writes to; ``airflow.task`` lands in the task's log.
    """

    template_fields: Sequence[str] = ("message",)

    def __init__(self, message: str = DEFAULT_MESSAGE, logger_name: str = "airflow.task") -> None:
        super().__init__()
        self.message = message
        self.logger_name = logger_name

    def notify(self, context: Any) -> None:
        """Log the rendered message at WARNING."""
        logging.getLogger(self.logger_name).warning("%s", self.message)
