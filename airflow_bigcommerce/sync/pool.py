"""
Run look-ups and write batches in parallel without losing what finished before a failure.

``Executor.map`` yields in submission order and keeps going after an error; a sync must hand every
settled row to the report as soon as it is settled, and stop starting requests once one failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")


class WorkerPool:
    """
    A thread pool of ``max_concurrency`` workers, or none at all when it is 1 (jobs then run inline).

    Call :meth:`close` when the run ends, also on failure.
    """

    def __init__(self, max_concurrency: int) -> None:
        self.executor: ThreadPoolExecutor | None = None
        if max_concurrency > 1:
            self.executor = ThreadPoolExecutor(max_concurrency, thread_name_prefix="bigcommerce-sync")

    def map(self, fn: Callable[[_T], _R], jobs: Sequence[_T]) -> Iterator[_R]:
        """
        Run ``fn`` over ``jobs`` (in the pool if there is one) and yield results as they finish.

        On a failure, no further job starts, running ones finish and are yielded, then it re-raises:
        what was done still reaches the report.
        """
        if self.executor is None or len(jobs) <= 1:
            for job in jobs:
                yield fn(job)
            return
        futures: set[Future[_R]] = {self.executor.submit(fn, job) for job in jobs}
        error: BaseException | None = None
        while futures:
            done, futures = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                if future.cancelled():
                    continue
                exc = future.exception()
                if exc is not None:
                    if error is None:
                        error = exc
                        for other in futures:
                            other.cancel()
                    continue
                yield future.result()
        if error is not None:
            raise error

    def close(self) -> None:
        """Wait for running jobs, drop queued ones."""
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
