"""``process-bags``: many bags on Ray, one task per bag, actors that load the model once.

A bag is one task because tracking needs its frames in order. ``--workers N`` actors each hold
a pipeline's model (loaded on their first bag, reused for the next: a bag gets fresh tracking
and a fresh detector, not a fresh model) and a CPU thread budget, so N actors share a machine's
cores instead of each taking all of them. Outputs and ``manifest.json`` (per bag: status,
frames, people, seconds, error) go to the output folder; a rerun skips the bags the manifest
says are done; a bag that fails is retried once, then reported. Ctrl-C cancels what is queued,
keeps what is done in the manifest and stops the local Ray.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymafx_ros.bags.process_bag import BagOptions

MANIFEST = "manifest.json"
RETRIES = 1
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass
class BatchOptions:
    """One process-bags run; ``template`` holds the per-bag options (input/output replaced).
    ``factory`` ('module:attribute') replaces the pipeline factory (tests use a fake model)."""

    inputs: list[Path]
    out_dir: Path
    workers: int = 1
    ray_address: str | None = None
    template: BagOptions | None = None
    factory: str | None = None
    threads_per_worker: int | None = None  # None: the machine's cores / workers


def output_name(source: Path) -> str:
    """A bag's output folder name: its name plus a short hash of its absolute path, so two
    bags of the same name from different folders never share an output."""
    digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:8]
    return f"{source.name.removesuffix('.bag')}-{digest}"


def read_manifest(out_dir: Path) -> dict[str, dict[str, Any]]:
    """The manifest's rows by input path ({} when there is none yet)."""
    path = out_dir / MANIFEST
    if not path.exists():
        return {}
    return {row["input"]: row for row in json.loads(path.read_text())["bags"]}


def write_manifest(out_dir: Path, rows: dict[str, dict[str, Any]]) -> None:
    """Rewrite manifest.json atomically (a reader never sees half a manifest)."""
    partial = out_dir / f".{MANIFEST}.partial"
    partial.write_text(json.dumps({"bags": list(rows.values())}, indent=1))
    partial.replace(out_dir / MANIFEST)


def _import(spec: str) -> Any:
    module, _, attribute = spec.partition(":")
    return getattr(__import__(module, fromlist=[attribute]), attribute)


class ModelCache:
    """The pipeline factory of an actor: each bag gets a new pipeline (tracking, detector) on
    the model loaded for the first one."""

    def __init__(self) -> None:
        self._key: Any = None
        self._model: Any = None

    def _load(self, config: Any) -> Any:
        from pymafx_ros.pipeline.model_loading import load_model

        key = (
            config.data_dir, config.checkpoint, config.device, config.backend, config.precision,
            config.with_vertices, config.seed,
        )  # fmt: skip
        if key != self._key:
            self._model, self._key = None, None  # free the old model before loading
            self._model, self._key = load_model(config), key
        return self._model

    def __call__(self, config: Any) -> Any:
        """A Pipeline for ``config`` (a PipelineConfig) on the cached model."""
        from pymafx_ros.pipeline.pipeline import Pipeline

        return Pipeline(config, model_loader=self._load)


class BagWorker:
    """A Ray actor's body: processes bags one after the other with one model."""

    def __init__(self, factory: str | None, threads: int) -> None:
        for name in THREAD_VARIABLES:
            os.environ[name] = str(threads)
        self._threads = threads
        self._factory = _import(factory) if factory else ModelCache()

    def process(self, options: BagOptions) -> dict[str, Any]:
        """One bag; returns its manifest row (never raises: errors are rows too)."""
        from pymafx_ros.bags.process_bag import process_bag

        options.overrides.setdefault("num_threads", self._threads)
        try:
            summary = process_bag(options, self._factory)
        except Exception as error:  # reported in the manifest, retried once by the driver
            return {"status": "failed", "error": f"{type(error).__name__}: {error}"}
        status = "done" if summary.exit_code == 0 else "done_with_problems"
        problems = summary.problems + (
            [f"{summary.failures} frame(s) failed"] if summary.failures else []
        )
        return {
            "status": status,
            "frames": summary.processed,
            "frames_in": summary.frames_in,
            "people": summary.people,
            "seconds": summary.seconds,
            "error": "; ".join(problems),
        }


def _start_ray(options: BatchOptions) -> Any:
    try:
        import ray
    except ImportError:
        raise RuntimeError(
            "process-bags needs Ray: pip install 'pymafx_ros[batch]' (-r requirements/batch.txt)"
        ) from None
    address = options.ray_address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)
    return ray


def run_batch(options: BatchOptions) -> int:
    """Process every input bag; 0 when all are done cleanly, 1 otherwise, 130 on Ctrl-C."""
    if options.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {options.workers}")
    options.out_dir.mkdir(parents=True, exist_ok=True)
    rows = read_manifest(options.out_dir)
    todo = []
    for source in options.inputs:
        key = str(source.resolve())
        if rows.get(key, {}).get("status") in ("done", "done_with_problems"):
            print(f"pymafx-ros process-bags: {source}: done before, skipped", file=sys.stderr)
            continue
        todo.append(source)
    if not todo:
        return _exit_code(rows, options.inputs)
    ray = _start_ray(options)
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        threads = options.threads_per_worker or max(1, cpus // options.workers)
        # One CPU slot per thread, so Ray places no more actors on a node than its cores allow.
        actor = ray.remote(num_cpus=min(threads, cpus), max_restarts=1)(BagWorker)
        env = {"env_vars": {name: str(threads) for name in THREAD_VARIABLES}}
        workers = [
            actor.options(runtime_env=env).remote(options.factory, threads)
            for _ in range(min(options.workers, len(todo)))
        ]
        return _schedule(ray, workers, todo, options, rows)
    finally:
        ray.shutdown()


def _schedule(
    ray: Any, workers: list[Any], todo: list[Path], options: BatchOptions, rows: dict
) -> int:
    """Keep every actor busy with one bag at a time; retry a failed bag once."""
    template = options.template or BagOptions(Path(), Path())
    queue = [(source, 0) for source in todo]
    running: dict[Any, tuple[Any, Path, int]] = {}
    idle = list(workers)
    try:
        while queue or running:
            while queue and idle:
                source, attempt = queue.pop(0)
                worker = idle.pop()
                bag = dataclasses.replace(
                    template,
                    input=source.resolve(),
                    output=(options.out_dir / output_name(source)).resolve(),
                    overrides=dict(template.overrides),
                    overwrite=True,  # a bag not marked done left no complete output
                    progress=False,
                )
                running[worker.process.remote(bag)] = (worker, source, attempt)
            finished, _ = ray.wait(list(running), num_returns=1)
            ref = finished[0]
            worker, source, attempt = running.pop(ref)
            idle.append(worker)
            try:
                row = ray.get(ref)
            except Exception as error:  # the actor died (out of memory, killed)
                row = {"status": "failed", "error": f"{type(error).__name__}: {error}"}
            if row["status"] == "failed" and attempt < RETRIES:
                queue.append((source, attempt + 1))
                continue
            row = {"input": str(source.resolve()), "output": output_name(source), **row}
            row["attempts"] = attempt + 1
            rows[row["input"]] = row
            write_manifest(options.out_dir, rows)
            print(f"pymafx-ros process-bags: {source}: {row['status']}", file=sys.stderr)
    except KeyboardInterrupt:
        for ref in running:
            ray.cancel(ref, force=True)
        print("pymafx-ros process-bags: interrupted; finished bags are in the manifest",
              file=sys.stderr)  # fmt: skip
        return 130
    return _exit_code(rows, options.inputs)


def _exit_code(rows: dict[str, dict[str, Any]], inputs: list[Path]) -> int:
    statuses = [rows.get(str(p.resolve()), {}).get("status") for p in inputs]
    return 0 if all(s == "done" for s in statuses) else 1
