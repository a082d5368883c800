"""
The connection form of Airflow 3.0 and 3.1, built from the ``conn-fields`` that 3.2+ reads.

One description of the form's fields (``get_provider_info``) serves both UIs: 3.2+ draws it from the
provider info, and 3.0/3.1 ask the hook class for WTForms widgets and a field behaviour, made here.
"""

from __future__ import annotations

from typing import Any


class ConnectionFormMixin:
    """The hook's connection-form class methods (mixed into the hook)."""

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Return the form behaviour for Airflow 3.0/3.1 (3.2+ reads ``get_provider_info``)."""
        from airflow_bigcommerce.get_provider_info import get_provider_info

        behaviour = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
        return {
            "hidden_fields": list(behaviour["hidden-fields"]),
            "relabeling": dict(behaviour["relabeling"]),
            "placeholders": dict(behaviour["placeholders"]),
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Return the extra form fields for Airflow 3.0/3.1 (WTForms), built from the same ``conn-fields``."""
        from wtforms import IntegerField, StringField
        from wtforms.validators import NumberRange, Optional, Regexp

        widgets: dict[str, Any] = {}
        for name, spec in legacy_field_specs().items():
            if spec["kind"] == "integer":
                validators = [Optional(), NumberRange(min=spec["minimum"])]
                widgets[name] = IntegerField(
                    spec["label"], validators=validators, description=spec["description"]
                )
            else:
                validators = [Regexp(spec["pattern"])] if spec["pattern"] else []
                widgets[name] = StringField(
                    spec["label"], validators=validators, description=spec["description"]
                )
        return widgets


def legacy_field_specs() -> dict[str, dict[str, Any]]:
    """Describe the ``conn-fields`` of ``get_provider_info`` in the terms WTForms needs."""
    from airflow_bigcommerce.get_provider_info import get_provider_info

    specs: dict[str, dict[str, Any]] = {}
    for name, field in get_provider_info()["connection-types"][0]["conn-fields"].items():
        schema = field["schema"]
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        specs[name] = {
            "kind": "integer" if "integer" in types else "string",
            "label": field["label"],
            "description": field["description"],
            "pattern": schema.get("pattern"),
            "minimum": schema.get("minimum", 0),
        }
    return specs
