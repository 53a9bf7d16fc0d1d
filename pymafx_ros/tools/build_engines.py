"""``pymafx-ros build-engines``: compile the TensorRT engines the ``tensorrt`` backend loads.

Engines are built ahead of time, once per GPU model, TensorRT version, weights, precision and
``--max-people`` (minutes each), into the artefact cache the node reads. ``--export-only --out
DIR`` writes the exported programs the compile step consumes instead, on any machine.
``--dry-run`` runs Torch-TensorRT's dry run on each program with the build's own arguments
(seconds each, no engine built) and prints its operators, TensorRT and PyTorch graphs, the
operators left to PyTorch with their source lines, and each engine's shape ranges.

Exit status: 0 built (or exported; or, with --dry-run, every program is one TensorRT graph);
1 a build failed (a dry run found a graph break or an error); 2 bad arguments, or this machine
lacks what the compile step needs (the message names CUDA and/or torch_tensorrt).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from pymafx_ros.backends.names import PROFILE_NAMES
from pymafx_ros.backends.tensorrt.options import (
    ENGINE_PRECISIONS,
    PIPELINE_PROFILES,
    EngineOptions,
    build_command,
)

PROG = "pymafx-ros build-engines"


def _profiles(text: str) -> tuple[str, ...]:
    profiles = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in profiles if p not in PROFILE_NAMES]
    if unknown or not profiles:
        raise argparse.ArgumentTypeError(
            f"profiles are a comma-separated list of {', '.join(PROFILE_NAMES)}, got {text!r}"
        )
    return profiles


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "build-engines",
        help="build the TensorRT engines of the tensorrt backend (CUDA, Torch-TensorRT)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--precision",
        choices=ENGINE_PRECISIONS,
        default="fp16",
        help="fp16: encoders in fp16, the head (rotations, regressors, skinning) in fp32; fp32: "
        "everything fp32 (default: fp16)",
    )
    parser.add_argument(
        "--max-people",
        type=int,
        default=1,
        help="most people per frame the engines take (the node's max_people; hands: twice)",
    )
    parser.add_argument(
        "--profiles",
        type=_profiles,
        default=PIPELINE_PROFILES,
        help="head outputs to build, comma-separated: joints (no mesh published), mesh "
        "(markers/overlay), release (parity checks) (default: joints,mesh)",
    )
    parser.add_argument("--data", type=Path, help="PyMAF-X data/ folder (default: placeholder)")
    parser.add_argument("--checkpoint", type=Path, help="v1.1 checkpoint (default: placeholder)")
    parser.add_argument("--device", default="cuda", help="CUDA device: cuda or cuda:N")
    parser.add_argument(
        "--export-only",
        action="store_true",
        help="write the exported programs the compile step consumes to --out and stop (no "
        "CUDA or Torch-TensorRT needed)",
    )
    parser.add_argument("--out", type=Path, help="folder for --export-only")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="run Torch-TensorRT's dry run with the build's arguments instead of building: per "
        "program its TensorRT and PyTorch graphs and shape ranges; exit 0 only when every "
        "program is one TensorRT graph (CUDA and Torch-TensorRT needed, no engine built)",
    )
    parser.set_defaults(run=run)


def _say(step: int, steps: int, text: str) -> None:
    print(f"[{step}/{steps}] {text}", flush=True)


def run(args: argparse.Namespace) -> int:
    """Build (or export) and say where the results went; returns the exit status."""
    options = EngineOptions(args.max_people, False, args.data, args.checkpoint)
    if args.dry_run and (args.export_only or args.out is not None):
        raise ValueError("--dry-run checks the build here; it takes no --export-only / --out")
    if args.export_only:
        if args.out is None:
            raise ValueError("--export-only needs --out DIR (where the programs go)")
        return _export(args, options)
    if args.out is not None:
        raise ValueError(
            "--out is for --export-only; engines go to the artefact cache the node reads "
            "($PYMAFX_CACHE_DIR/backends, else ~/.cache/pymafx_ros/backends)"
        )
    return _build(args, options)


def _source(args: argparse.Namespace, device: Any) -> Any:
    """The exported programs of the model named by --data / --checkpoint, on ``device``."""
    from pymafx_ros.backends.artefact_cache import ArtefactCache
    from pymafx_ros.backends.export.source import ProgramSource
    from pymafx_ros.backends.tensorrt.input_shapes import engine_profiles
    from pymafx_ros.model.factory import build_model

    engine_profiles("body_encoder", args.max_people)  # a bad --max-people fails before the build

    model, _ = build_model(data_dir=args.data, checkpoint=args.checkpoint, device=device)
    return ProgramSource(model, ArtefactCache())


def _export(args: argparse.Namespace, options: EngineOptions) -> int:
    from pymafx_ros.backends.tensorrt.compile_inputs import write_compile_inputs

    start = time.perf_counter()
    source = _source(args, "cpu")
    manifest = write_compile_inputs(
        source, args.out, args.precision, options.max_people, args.profiles, _say
    )
    print(
        f"wrote the exported programs ({args.precision}, max_people {options.max_people}) to "
        f"{args.out.resolve()} in {time.perf_counter() - start:.0f} s; manifest: {manifest.name}",
        flush=True,
    )
    return 0


def _missing(args: argparse.Namespace, compiler: Any) -> bool:
    """Says (exit status 2) what this machine lacks for the compile step; False: nothing."""
    import torch

    missing = compiler.missing(torch.device(args.device))
    if missing:
        what = "run Torch-TensorRT's dry run" if args.dry_run else "build TensorRT engines"
        print(
            f"{PROG}: error: cannot {what} here: missing "
            + "; missing ".join(missing)
            + f". `{PROG} --export-only --out DIR` writes the exported programs without them.",
            file=sys.stderr,
        )
    return bool(missing)


def _build(args: argparse.Namespace, options: EngineOptions) -> int:
    import torch

    from pymafx_ros.backends.tensorrt.compile_inputs import compile_input_names
    from pymafx_ros.backends.tensorrt.store import ENGINE_FILE, EngineStore
    from pymafx_ros.backends.tensorrt_backend import default_compiler

    device = torch.device(args.device)
    compiler = default_compiler()
    if _missing(args, compiler):
        return 2
    if args.dry_run:
        return _dry_run(args, compiler, device)
    start = time.perf_counter()
    store = EngineStore(_source(args, device), compiler, device, args.precision, args.max_people)
    names = compile_input_names(args.profiles)
    print(
        f"building {len(names)} TensorRT engines for {store.identity.get('gpu')} "
        f"({store.identity.get('compute_capability')}), precision {args.precision}, "
        f"max_people {options.max_people}, into {store.cache.root} (minutes each)",
        flush=True,
    )
    for step, name in enumerate(names, start=1):
        _say(step, len(names), f"{name}: {store.problem(name) or 'already built'}")
        began = time.perf_counter()
        try:
            folder = store.build(name)
            store.load(name)  # a built engine that does not deserialise is no engine
        except Exception as error:  # a failed compile names its engine and the cause
            print(
                f"{PROG}: error: {name} failed: {type(error).__name__}: {error}", file=sys.stderr
            )
            return 1
        print(f"    {folder / ENGINE_FILE} ({time.perf_counter() - began:.0f} s)", flush=True)
    print(
        f"done in {time.perf_counter() - start:.0f} s. Run the node with backend: tensorrt, "
        f"precision: {args.precision}, max_people: {options.max_people} (the same model files); "
        "this command again rebuilds nothing: "
        f"`{build_command(options, args.precision, args.device, args.profiles)}`",
        flush=True,
    )
    return 0


def _dry_run(args: argparse.Namespace, compiler: Any, device: Any) -> int:
    """Torch-TensorRT's dry run of every program the build would compile; prints each
    report and returns 0 when all are one TensorRT graph, else 1."""
    import functools

    from pymafx_ros.backends.tensorrt.compile_inputs import compile_input_names
    from pymafx_ros.backends.tensorrt.dryrun import all_one_graph, dry_run
    from pymafx_ros.backends.tensorrt.input_shapes import (
        engine_profiles,
        engine_program,
        program_precision,
    )

    source = _source(args, device)
    names = compile_input_names(args.profiles)
    reports = []
    for step, name in enumerate(names, start=1):
        precision = program_precision(name, args.precision)
        _say(step, len(names), f"dry run of {name} ({precision})")
        program, _, _ = engine_program(source, name, args.precision, args.max_people)
        profiles = engine_profiles(name, args.max_people)
        call = functools.partial(
            compiler.compile, profiles=profiles, precision=precision, device=device
        )
        report = dry_run(call, name, precision, program)
        reports.append(report)
        print("\n".join(report.lines()), flush=True)
    whole = sum(report.one_graph for report in reports)
    print(
        f"programs {len(reports)}, one TensorRT graph {whole}, graph breaks "
        f"{sum(report.torch_graphs for report in reports)}, errors "
        f"{sum(bool(report.error) for report in reports)}",
        flush=True,
    )
    return 0 if all_one_graph(reports) else 1
