"""Check the port against a parity fixture made by the official PyMAF-X code.

``python -m pymafx_ros.tools.parity FIXTURE.npz --data DIR [--table TSV]`` rebuilds the model
from the data directory with the seeded weights of the fixture's ``meta_json['weight_seed']``,
replays every section of the fixture and prints the max abs error of each output array per
iteration. Sections (reference README section 8): ``{S}_m{k}_*`` are ``mesh_out[k]`` of a full
forward of the ``in_img_*`` crops; ``{S}_in_*`` / ``{S}_out_*`` a regressor step run alone;
``{S}_feat_*`` intermediates (compared relative to the array's max |x|, reported only). Only
arrays present in the fixture are compared. Exit status 1 if an output exceeds the tolerance.

``--backend onnxruntime|openvino`` replays the fixture through that backend's exported programs
(``--precision bf16|int8`` reports the errors without gating them, and what the precision
costs in mm against the fixture's fp32 meshes: the release's 49 joints and the 10475 SMPL-X
vertices, mean and max; int8 uses the calibration recorded for the weights, else the built-in
set). Those programs compute the final
mesh only, from crops, so they check every ``{S}_m3_*`` output of the forward sections; the
earlier iterations, the intermediates and the regressor-alone sections (which start from
given features) are skipped and say so: the same model code is checked on them through torch.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from pymafx_ros.backends.interface import Backend
from pymafx_ros.backends.names import BackendUnavailableError
from pymafx_ros.backends.options import BackendOptions
from pymafx_ros.backends.precision_cost import distances_mm
from pymafx_ros.backends.selection import create_backend
from pymafx_ros.config import PRECISIONS
from pymafx_ros.model.factory import STATE_DICT_TABLE, build_model
from pymafx_ros.model.pymafx_net import NUM_ITERATIONS, PyMAFX
from pymafx_ros.model.regressor import STATE_NAMES
from pymafx_ros.pipeline.calibration import calibration_for

PARITY_BACKENDS = ("torch", "onnxruntime", "openvino")

OUTPUT_TOLERANCE = 1e-4
FEATURE_RTOL = 1e-4
_MESH_KEY = re.compile(r"^([A-Z])_m(\d+)_(.+)$")
_STEP_OUT_KEY = re.compile(r"^([A-Z])_out_(.+)$")
_FEATURE_KEY = re.compile(r"^([A-Z])_feat_(.+)$")
_IMAGES = ("in_img_body", "in_img_lhand", "in_img_rhand", "in_img_face")


@dataclass(frozen=True)
class Comparison:
    """One fixture array against the port: ``group`` is ``m{k}`` (iteration k), ``out`` or
    ``feat``; ``error`` the max abs difference (inf if missing, mis-shaped or NaN-mismatched)."""

    section: str
    group: str
    name: str
    error: float
    limit: float
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.error <= self.limit


@dataclass
class ParityReport:
    outputs: list[Comparison]
    features: list[Comparison]
    skipped: list[str] = field(default_factory=list)  # what was not compared, and why
    gated: bool = True  # False for bf16/int8: errors are reported, not held to the tolerance
    costs: list[str] = field(default_factory=list)  # reduced precisions: mm against fp32

    @property
    def failures(self) -> list[Comparison]:
        return [c for c in self.outputs if not c.ok] if self.gated else []

    @property
    def ok(self) -> bool:
        return not self.failures


def _max_abs(expected: np.ndarray, actual: np.ndarray) -> float:
    both_nan = np.isnan(expected) & np.isnan(actual)
    diff = np.where(both_nan, 0.0, np.abs(expected.astype(np.float64) - actual))
    return math.inf if np.isnan(diff).any() else float(diff.max(initial=0.0))


def _compare(
    section: str,
    group: str,
    name: str,
    expected: np.ndarray,
    actual: torch.Tensor | None,
    atol: float | None = None,
    rtol: float | None = None,
) -> Comparison:
    scale = float(np.abs(expected).max(initial=0.0)) if rtol is not None else 0.0
    limit = atol if atol is not None else rtol * scale
    if actual is None:
        return Comparison(section, group, name, math.inf, limit, "missing in the port")
    actual_np = actual.detach().cpu().numpy()
    if actual_np.shape != expected.shape:
        note = f"shape {actual_np.shape} != fixture {expected.shape}"
        return Comparison(section, group, name, math.inf, limit, note)
    return Comparison(section, group, name, _max_abs(expected, actual_np), limit)


def _sections(arrays: dict[str, np.ndarray], pattern: re.Pattern) -> list[str]:
    return sorted({m.group(1) for key in arrays if (m := pattern.match(key))})


def _given_visibility(arrays: dict[str, np.ndarray], section: str) -> bool:
    """Whether a forward section was run with the detector hand visibilities: its
    ``pred_vis_hands`` is (2B,) then and (B, 2) when predicted (README section 8)."""
    vis = [v for k, v in arrays.items() if k.startswith(f"{section}_m") and "_pred_vis_hands" in k]
    if vis:
        return vis[0].ndim == 1
    return "in_vis_lhand" in arrays


def _feature_comparisons(
    arrays: dict[str, np.ndarray], section: str, probe: dict[str, torch.Tensor], rtol: float
) -> list[Comparison]:
    found = []
    for key, expected in arrays.items():
        match = _FEATURE_KEY.match(key)
        if match and match.group(1) == section:
            name = match.group(2)
            found.append(_compare(section, "feat", name, expected, probe.get(name), rtol=rtol))
    return found


def _forward_section(
    model: PyMAFX, arrays: dict[str, np.ndarray], section: str, tol: float, rtol: float
) -> ParityReport:
    images = [torch.from_numpy(arrays[name]) for name in _IMAGES]
    vis = {}
    if _given_visibility(arrays, section):
        vis = {side: torch.from_numpy(arrays[f"in_{side}"]) for side in ("vis_lhand", "vis_rhand")}
    probe: dict[str, torch.Tensor] = {}
    with torch.inference_mode():
        meshes = model(*images, **vis, probe=probe)
    outputs = []
    for key, expected in arrays.items():
        match = _MESH_KEY.match(key)
        if match and match.group(1) == section:
            k, name = int(match.group(2)), match.group(3)
            actual = meshes[k].get(name) if k < len(meshes) else None
            outputs.append(_compare(section, f"m{k}", name, expected, actual, atol=tol))
    return ParityReport(outputs, _feature_comparisons(arrays, section, probe, rtol))


def _final_section(
    backend: Backend, arrays: dict[str, np.ndarray], section: str, tol: float
) -> ParityReport:
    """A forward section through a backend: its final mesh (``m3``) only."""
    images = [torch.from_numpy(arrays[name]) for name in _IMAGES]
    vis = {}
    if _given_visibility(arrays, section):
        vis = {side: torch.from_numpy(arrays[f"in_{side}"]) for side in ("vis_lhand", "vis_rhand")}
    final_group = f"m{NUM_ITERATIONS}"
    mesh = backend.predict(*images, **vis, profile="release", run_hidden_hands=True).as_dict()
    costs = []
    if backend.precision != "fp32":
        for name, label in (("pred_joints", "joints (49)"), ("smplx_verts", "vertices")):
            if f"{section}_m{NUM_ITERATIONS}_{name}" in arrays and name in mesh:
                reference = arrays[f"{section}_m{NUM_ITERATIONS}_{name}"]
                mm = distances_mm(mesh[name], reference)
                costs.append(
                    f"{section} {backend.precision} vs fixture fp32, {label}: "
                    f"mean {mm.mean():.3f} mm, max {mm.max():.3f} mm"
                )
    outputs, skipped = [], set()
    for key, expected in arrays.items():
        match = _MESH_KEY.match(key)
        if match and match.group(1) == section:
            group = f"m{match.group(2)}"
            if group != final_group:
                skipped.add(group)
                continue
            name = match.group(3)
            outputs.append(_compare(section, group, name, expected, mesh.get(name), atol=tol))
    notes = []
    if skipped:
        notes.append(
            f"{section} {', '.join(sorted(skipped))}: earlier iterations are not outputs of the "
            f"exported programs (checked through torch)"
        )
    if any(_FEATURE_KEY.match(k) and k.startswith(f"{section}_") for k in arrays):
        notes.append(f"{section} intermediates: not outputs of the exported programs")
    return ParityReport(outputs, [], notes, costs=costs)


def _regressor_section(
    model: PyMAFX,
    arrays: dict[str, np.ndarray],
    section: str,
    iteration: int,
    tol: float,
    rtol: float,
) -> ParityReport:
    def given(name: str) -> torch.Tensor:
        key = f"{section}_in_{name}"
        if key not in arrays:
            raise ValueError(f"fixture section {section} lacks {key}, needed to run the regressor")
        return torch.from_numpy(arrays[key])

    state = {name: given(f"init_{name}") for name in STATE_NAMES}
    vis = {}
    if f"{section}_in_vis_lhand" in arrays:
        vis = {side: given(side) for side in ("vis_lhand", "vis_rhand")}
    probe: dict[str, torch.Tensor] = {}
    with torch.inference_mode():
        mesh = model.regressor_step(
            iteration,
            given("x"),
            given("xc_lhand"),
            given("xc_rhand"),
            given("xc_face"),
            state,
            **vis,
            probe=probe,
        )
    outputs = []
    for key, expected in arrays.items():
        match = _STEP_OUT_KEY.match(key)
        if match and match.group(1) == section:
            name = match.group(2)
            outputs.append(_compare(section, "out", name, expected, mesh.get(name), atol=tol))
    return ParityReport(outputs, _feature_comparisons(arrays, section, probe, rtol))


def read_fixture(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """All arrays of a parity fixture and its ``meta_json`` settings."""
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    meta = json.loads(str(arrays.pop("meta_json"))) if "meta_json" in arrays else {}
    missing = [name for name in _IMAGES if name not in arrays]
    if missing:
        raise ValueError(f"{path}: not a PyMAF-X parity fixture, lacks {missing}")
    return arrays, meta


def run_parity(
    fixture: Path,
    data_dir: Path | None = None,
    table: Path = STATE_DICT_TABLE,
    tolerance: float = OUTPUT_TOLERANCE,
    feature_rtol: float = FEATURE_RTOL,
    model: PyMAFX | None = None,
    prepared: bool = False,
    backend: str | None = None,
    precision: str = "fp32",
) -> ParityReport:
    """Replay every section of ``fixture``; ``model`` (already seeded with the fixture's
    ``weight_seed``, as loaded) skips rebuilding it from ``data_dir`` and ``table``.

    ``backend`` None checks the model itself (after ``prepare_for_inference()`` when
    ``prepared``); a backend name checks that backend (``torch`` prepares the model and, for
    bf16, runs its encoders in bf16). bf16 and int8 errors are reported, not gated, with their
    cost in mm against the fixture (``ParityReport.costs``).
    """
    arrays, meta = read_fixture(Path(fixture))
    if model is None:
        if "weight_seed" not in meta:
            raise ValueError(f"{fixture}: meta_json has no weight_seed; cannot rebuild weights")
        model, _ = build_model(data_dir, seed=int(meta["weight_seed"]), table=table)
        if prepared:
            model.prepare_for_inference()
    report = ParityReport([], [], gated=precision == "fp32")
    runner: Backend | None = None
    if backend is not None:
        options = BackendOptions(backend, precision, calibration=calibration_for)
        runner = create_backend(model, options)
        if backend == "torch":
            model = runner.model
            runner = None
    # The fixture's regressor-alone sections call the last regressor (README section 8).
    iteration = int(meta.get("regressor_iteration", NUM_ITERATIONS - 1))
    if runner is None:
        parts = [
            _forward_section(model, arrays, s, tolerance, feature_rtol)
            for s in _sections(arrays, _MESH_KEY)
        ]
        parts += [
            _regressor_section(model, arrays, s, iteration, tolerance, feature_rtol)
            for s in _sections(arrays, _STEP_OUT_KEY)
        ]
    else:
        parts = [
            _final_section(runner, arrays, s, tolerance) for s in _sections(arrays, _MESH_KEY)
        ]
        for section in _sections(arrays, _STEP_OUT_KEY):
            report.skipped.append(
                f"{section}: the regressor alone on given features is not an exported program "
                "(its integration and decoding are in the head, checked by the final meshes)"
            )
    for part in parts:
        report.outputs += part.outputs
        report.features += part.features
        report.skipped += part.skipped
        report.costs += part.costs
    return report


def _fmt(error: float) -> str:
    return "missing" if math.isinf(error) else f"{error:.2e}"


def format_report(report: ParityReport, with_features: bool = True) -> str:
    """Readable tables: per section, one row per output and one column per iteration."""
    lines = []
    for section in sorted({c.section for c in report.outputs}):
        rows = [c for c in report.outputs if c.section == section]
        groups = sorted({c.group for c in rows}, key=lambda g: (len(g), g))
        names = sorted({c.name for c in rows})
        width = max(len(n) for n in names) + 2
        lines.append(f"section {section}: max abs error per output ('!' > {rows[0].limit:g})")
        lines.append(" " * width + "".join(f"{g:>11}" for g in groups))
        cells = {(c.group, c.name): c for c in rows}
        for name in names:
            row = ""
            for group in groups:
                c = cells.get((group, name))
                row += f"{'':>11}" if c is None else f"{_fmt(c.error) + ('' if c.ok else '!'):>11}"
            lines.append(f"{name:<{width}}{row}")
        worst = [max((c.error for c in rows if c.group == g), default=0.0) for g in groups]
        lines.append(f"{'(max)':<{width}}" + "".join(f"{_fmt(w):>11}" for w in worst))
        lines.append("")
    if with_features and report.features:
        lines.append("intermediates: max abs error / allowed (rtol x max|fixture|); not gating")
        for c in report.features:
            flag = "ok" if c.ok else "MISMATCH"
            lines.append(
                f"  {c.section}_feat_{c.name:<40} {_fmt(c.error):>9} / {c.limit:.2e} {flag}"
            )
        lines.append("")
    lines += [f"skipped: {note}" for note in report.skipped]
    lines += [f"cost: {line}" for line in report.costs]
    failures = report.failures
    if not report.gated:
        worst = max((c.error for c in report.outputs), default=0.0)
        lines.append(
            f"REPORTED (not gated): {len(report.outputs)} output arrays, max abs error {worst:.2e}"
        )
    elif failures:
        lines.append(f"FAIL: {len(failures)} output arrays exceed the tolerance:")
        lines += [f"  {c.section} {c.group} {c.name}: {_fmt(c.error)} {c.note}" for c in failures]
    else:
        worst = max((c.error for c in report.outputs), default=0.0)
        lines.append(f"PASS: {len(report.outputs)} output arrays, max abs error {worst:.2e}")
    return "\n".join(lines)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``parity`` on a CLI's subparsers."""
    parser = subparsers.add_parser("parity", help=__doc__.splitlines()[0], description=__doc__)
    _add_arguments(parser)
    return parser


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("fixture", type=Path, help="parity fixture .npz")
    parser.add_argument("--data", type=Path, help="PyMAF-X data/ folder (default: placeholder)")
    parser.add_argument("--table", type=Path, default=STATE_DICT_TABLE, help="state-dict TSV")
    parser.add_argument("--tolerance", type=float, default=OUTPUT_TOLERANCE)
    parser.add_argument("--feature-rtol", type=float, default=FEATURE_RTOL)
    parser.add_argument("--no-features", action="store_true", help="omit the intermediates")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--prepared",
        action="store_true",
        help="check the model after prepare_for_inference() (what --backend torch runs)",
    )
    parser.add_argument(
        "--backend",
        choices=PARITY_BACKENDS,
        help="check this backend instead of the model itself (exported backends: final meshes)",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="backend precision; bf16/int8 errors and their cost in mm are reported, not held "
        "to the tolerance",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the parity check, print the report; 0 on success, 1 if an output is off."""
    torch.set_num_threads(args.threads)
    report = run_parity(
        args.fixture,
        args.data,
        args.table,
        args.tolerance,
        args.feature_rtol,
        prepared=args.prepared,
        backend=args.backend,
        precision=args.precision,
    )
    print(format_report(report, with_features=not args.no_features))
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pymafx_ros.tools.parity",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    args = parser.parse_args(argv)
    # A backend's first start builds its programs (minutes): show what it does and how long.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pymafx_ros.backends").setLevel(logging.INFO)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, BackendUnavailableError) as error:
        print(f"parity: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
