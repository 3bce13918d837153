"""What one run's sampling jobs share: which chunks to compute, Ray's lifetime, what was done.

A run (``occam run``) performs several sampling jobs (one :func:`occam.executors.run_chunks`
call each: a setting, a dataset, a draw of S). A :class:`SamplingSession`, held by the run's
:class:`occam.study.RunContext`, is handed to every one of them. It says

- which chunks to compute: all of them (a plain run), only ``chunks = (i, j)`` of every job
  (a *slice* of a batch run, ``occam run ... --chunks i:j``: the study is walked for its
  sampling jobs only and its result discarded), none (``check``: the walk of
  ``occam merge`` that lists what is missing), or none but all must be there
  (``require_complete``: the merge itself, which only reads the chunks);
- whether a Ray task asks for a GPU (``gpus``: 1 when the run's device is CUDA, so each task
  runs on a GPU of its own, which Ray exposes to it as ``CUDA_VISIBLE_DEVICES``);
- and it starts Ray at most once per run, at the first job that uses it, and stops it in
  :meth:`SamplingSession.close` at the end of the run (only if it started it).

Each job reports what it found and did in ``jobs`` (a :class:`JobRecord`).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Knobs that choose where chunks run, not what they compute: slices of one batch run may
#: differ in them (one node has a GPU pool, another a process pool).
SCHEDULING_KNOBS: tuple[str, ...] = ("executor", "workers", "ray_address")


class ExecutorError(RuntimeError):
    """The chosen executor cannot run here (Ray missing, its cluster unreachable)."""


class MissingChunks(RuntimeError):
    """A merge found sampling jobs whose chunks are not all checkpointed (some slices not run)."""


@dataclass
class JobRecord:
    """What one sampling job found and did in this process.

    name: the job's checkpoint folder (or its key when it has none).
    n_chunks: chunks of the whole job.
    present: chunks found checkpointed when the job started.
    computed: chunks computed here.
    missing: indices of the chunks still not checkpointed when the job ended.
    """

    name: str
    n_chunks: int
    present: int
    computed: int
    missing: list[int]


@dataclass
class SamplingSession:
    """The sampling state of one run (see the module's docstring).

    chunks: ``(i, j)``: compute only chunks ``i .. j-1`` of every job (a slice).
    check: compute nothing; record each job's missing chunks (a merge's first walk).
    require_complete: compute nothing; a job with a missing chunk raises :class:`MissingChunks`.
    gpus: GPUs each Ray task asks for (1 on a CUDA run, else 0).
    """

    chunks: tuple[int, int] | None = None
    check: bool = False
    require_complete: bool = False
    gpus: float = 0.0
    jobs: list[JobRecord] = field(default_factory=list)
    _ray: Any = field(default=None, repr=False)
    _started_ray: bool = field(default=False, repr=False)

    @property
    def sampling_only(self) -> bool:
        """True when the run is walked for its sampling jobs only (a slice, a merge's check)."""
        return self.chunks is not None or self.check

    def ray(self, address: str | None = None) -> Any:
        """The ``ray`` module, connected: to the cluster at ``address`` (or ``$RAY_ADDRESS``)
        or to a local Ray started here with the CPUs this process may use; once per session.

        Raises :class:`ExecutorError` (one line) when Ray is missing or the address cannot be
        reached.
        """
        if self._ray is not None:
            return self._ray
        ray = import_ray()
        if not ray.is_initialized():
            target = address or os.environ.get("RAY_ADDRESS") or None
            try:
                if target:
                    check_ray_address(target)
                    ray.init(address=target, log_to_driver=False, logging_level=logging.WARNING)
                else:
                    ray.init(
                        num_cpus=allocated_cpus(),
                        log_to_driver=False,
                        include_dashboard=False,
                        logging_level=logging.WARNING,
                    )
            except ExecutorError:
                raise
            except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
                where = f"the Ray cluster at {target}" if target else "a local Ray"
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ExecutorError(f"--executor ray: cannot start {where} ({first})") from None
            self._started_ray = True
        self._ray = ray
        return ray

    def close(self) -> None:
        """Stop Ray if this session started it (the end of the run)."""
        if self._started_ray and self._ray is not None:
            self._ray.shutdown()
        self._ray, self._started_ray = None, False


def import_ray() -> Any:
    """``import ray``, or :class:`ExecutorError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ExecutorError("--executor ray needs Ray: pip install 'occam-lab[ray]'") from None
    return ray


def check_ray(address: str | None) -> None:
    """Before a run on Ray: Ray importable, and its cluster (``address`` or ``$RAY_ADDRESS``,
    when given) answering; else :class:`ExecutorError`."""
    import_ray()
    target = address or os.environ.get("RAY_ADDRESS") or None
    if target:
        check_ray_address(target)


def check_ray_address(address: str, timeout: float = 5.0) -> None:
    """Fail fast (:class:`ExecutorError`) when nothing listens at a Ray ``address``.

    ``ray.init`` waits for an unreachable cluster for tens of seconds, printing its own log
    lines meanwhile (measured with Ray 2.60: 35 s and more); a TCP connection to the head's
    port answers at once. ``auto`` (the cluster started on this machine with ``ray start``) is
    left to Ray, which fails at once when there is none.
    """
    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port_text = hostport.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ExecutorError(f"--ray-address {address}: expected HOST:PORT, ray://HOST:PORT or auto")
    host = host.strip("[]")  # [::1]:6379
    try:
        with socket.create_connection((host, int(port_text)), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ExecutorError(
            f"--ray-address {address}: no Ray cluster answers there ({reason}); start one "
            "with `ray start --head` or check the address"
        ) from None


def allocated_cpus(environ: Mapping[str, str] | None = None) -> int:
    """The CPUs this process may use: its affinity mask, capped by Slurm's allocation.

    ``os.cpu_count()`` counts the machine's cores, not the ones a batch scheduler gave the
    job; the affinity mask (``taskset``, cgroups) and ``SLURM_CPUS_PER_TASK`` /
    ``SLURM_CPUS_ON_NODE`` (when set) are what the job may use. At least 1.
    """
    env = os.environ if environ is None else environ
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows: no affinity masks
        n = os.cpu_count() or 1
    for var in ("SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE"):
        value = env.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            n = min(n, int(value))
    return max(1, n)
