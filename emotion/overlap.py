"""Stages of work over a sequence of items, run on threads so that they overlap, with the results in the items' order
and a fixed bound on the items in flight.

A folder of photos goes through decode, detect, classify and write; run one photo after another, one stage waits for
the other and the machine's cores take turns. Here every stage has its own threads and works on the next item while
the stage after it works on this one. OpenCV, onnxruntime, TensorFlow (Lite) and Pillow release the GIL in their
kernels, so the stages run at once on different cores.

Part of the package's base (every stage of the study may import it; it imports nothing of the study).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

POLL_SECONDS = 0.05
"""How often a waiting thread checks whether the run was stopped."""
_DONE = object()


@dataclass(frozen=True)
class Stage:
    """One stage: ``function(previous stage's result)`` (the item itself for the first stage) on ``workers`` threads.

    A stage with one worker handles the items in their order, one at a time, so its function may keep state across
    items (a set of names already written, a counter); a stage with more workers handles several items at once, in
    any order, and its function must not depend on the order.
    """

    function: Callable[[Any], Any]
    workers: int = 1
    name: str = "stage"


class OverlappedStages:
    """Run ``stages`` over ``items``: each item goes through every stage in turn, each stage on its own threads, and
    the last stage's results come out in the order of ``items``.

    Use it as a context manager and iterate inside::

        with OverlappedStages(paths, [Stage(read, workers=2), Stage(detect), Stage(write)], max_in_flight=8) as run:
            for result in run:
                ...

    Bounded memory: at most ``max_in_flight`` items are in flight, counted from when an item enters the first stage
    until the consumer asks for the result after its own; the first stage waits for a free place before it takes the
    next item. Nothing a stage returns outlives the item's place in flight except the last stage's result, which the
    consumer holds.

    Errors: an exception a stage raises for an item is raised to the consumer where that item's result would come,
    after the results of the items before it; the items after it are abandoned. Leaving the ``with`` block (at the
    end, on an exception, on Ctrl+C, or on ``break``) stops the run: waiting threads notice within
    :data:`POLL_SECONDS`, queued work is cancelled, work already running finishes (one call per worker), and every
    thread is joined before the block is left, so nothing keeps running behind the caller and nothing hangs.

    Args:
        items: what the first stage takes, in order (``len`` gives the progress total).
        stages: at least one :class:`Stage`.
        max_in_flight: the bound above, at least 1.

    Raises:
        ValueError: no stage, a stage with fewer than one worker, or ``max_in_flight`` below 1.
    """

    def __init__(self, items: Sequence[Any], stages: Sequence[Stage], *, max_in_flight: int) -> None:
        if not stages:
            raise ValueError("OverlappedStages needs at least one stage.")
        if any(stage.workers < 1 for stage in stages):
            raise ValueError(f"every stage needs at least one worker, got {[stage.workers for stage in stages]}.")
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}.")
        self.items, self.stages, self.max_in_flight = items, list(stages), max_in_flight
        self._places = threading.Semaphore(max_in_flight)
        self._stop = threading.Event()
        self._pools: list[ThreadPoolExecutor] = []
        self._queues: list[queue.Queue] = []
        self._threads: list[threading.Thread] = []

    def __len__(self) -> int:
        return len(self.items)

    def __enter__(self) -> OverlappedStages:
        if self._pools:
            raise RuntimeError("an OverlappedStages runs once; make a new one.")
        self._pools = [ThreadPoolExecutor(stage.workers, thread_name_prefix=f"overlap-{stage.name}")
                       for stage in self.stages]
        self._queues = [queue.Queue() for _ in self.stages]
        self._threads = [threading.Thread(target=self._feed, name="overlap-feed", daemon=True)]
        self._threads += [threading.Thread(target=self._relay, args=(index,), name=f"overlap-relay-{index}",
                                           daemon=True) for index in range(1, len(self.stages))]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exception) -> None:
        self.close()

    def __iter__(self) -> Iterator[Any]:
        if not self._pools:
            raise RuntimeError("iterate an OverlappedStages inside its `with` block.")
        results = self._queues[-1]
        while True:
            future = results.get()
            if future is _DONE:
                return
            value = future.result()
            del future
            yield value
            del value
            self._places.release()

    def close(self) -> None:
        """Stop the run and join its threads (idempotent; what leaving the ``with`` block does)."""
        self._stop.set()
        for pool in self._pools:
            pool.shutdown(wait=False, cancel_futures=True)
        for thread in self._threads:
            thread.join()
        for pool in self._pools:
            pool.shutdown(wait=True)

    def _feed(self) -> None:
        """The first stage's driver: take a place, then submit the next item."""
        target = self._queues[0]
        try:
            for item in self.items:
                while not self._places.acquire(timeout=POLL_SECONDS):
                    if self._stop.is_set():
                        return
                if self._stop.is_set():
                    return
                target.put(self._pools[0].submit(self.stages[0].function, item))
        except BaseException as error:  # iterating the items failed, or the pool was shut down: the consumer hears
            failed = Future()
            failed.set_exception(error)
            target.put(failed)
        target.put(_DONE)

    def _relay(self, index: int) -> None:
        """Stage ``index``'s driver: hand each result of the stage before, in order, to this stage's workers."""
        source, target = self._queues[index - 1], self._queues[index]
        while True:
            future = self._next(source)
            if future is None:
                return
            if future is _DONE:
                target.put(_DONE)
                return
            while not self._finished(future):
                if self._stop.is_set():
                    return
            if future.cancelled() or future.exception() is not None:
                target.put(future)  # the failure travels on, in order, to the consumer
                continue
            value = future.result()
            del future  # the previous stage's result lives on only as this stage's input
            try:
                target.put(self._pools[index].submit(self.stages[index].function, value))
            except RuntimeError:  # the pool was shut down: the run is stopping
                return
            del value

    def _next(self, source: queue.Queue) -> Any:
        while not self._stop.is_set():
            try:
                return source.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
        return None

    @staticmethod
    def _finished(future: Future) -> bool:
        try:
            future.exception(timeout=POLL_SECONDS)
        except TimeoutError:
            return False
        except BaseException:  # cancelled
            return True
        return True
