"""Errors whose message says what to fix reach the task log without the frames of the layers below."""

from __future__ import annotations

from types import TracebackType


class ActionableErrors:
    """
    Re-raise a refused token, scope or store hash, or a store never reached, without its traceback.

    Their message is the fix (the Test button's words, the connection id, the host); a traceback
    through the engine, the transport and ``requests`` would only bury it. (A class, not
    ``@contextmanager``: contextlib puts the original traceback back on an exception re-raised
    from the generator.)
    """

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        from airflow_bigcommerce.exceptions import BigCommerceAuthError, BigCommerceConnectionError

        if isinstance(exc, BigCommerceAuthError | BigCommerceConnectionError):
            raise exc.with_traceback(None) from None
