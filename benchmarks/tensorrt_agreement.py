"""TensorRT engines against eager fp32 on a CUDA GPU: SMPL-X joints and vertices in millimetres.

The ``tensorrt`` backend (fp16 encoders, fp32 head; ``--precision fp32`` for all-fp32 engines)
against the same network in eager PyTorch fp32 with TF32 off, both producing the pipeline's
mesh profile. Cases:

* the vendored parity fixture's crops (noise images, one hand hidden as in the fixture);
* every person MediaPipe finds on photos shipped inside installed packages (scikit-image's
  astronaut and cameraman, matplotlib's Grace Hopper), both hands forced visible;
* the astronaut with both hands below the visibility gate (the head's empty hand row);
* a degenerate copy of the network: every rotation it predicts is the identity (zero pose:
  where fp16 epsilons would give NaN) and its body camera puts the mesh across the feature
  maps' edge (loop points outside the maps sample zeros). Only its head is compiled (same
  settings as the engines' head) and both heads get the same encoder maps, so the line
  measures the fp32 head under those conditions; it also reports the share of vertices that
  project outside the maps and the largest joint rotation (0 deg: zero pose).

One JSON line per case: joints (the 55 kinematic SMPL-X joints) and vertices, mean and max
over people and points, in mm; the NaN count over every output; whether the issue's bounds
hold (mean <= 2 mm, max <= 10 mm, no NaN). Placeholder weights (the default) may amplify
rounding differently from the trained ones: say so next to the figures.

    python benchmarks/tensorrt_agreement.py [--precision fp16] [--max-people 3]
        [--build-engines] [--data DIR --checkpoint FILE]

Exit status: 0 every case within the bounds, 1 one is not, 2 no CUDA / Torch-TensorRT /
engine (the message names it; ``--build-engines`` builds missing engines, minutes).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from pathlib import Path

import torch
from model_gpu import astronaut_crops, tf32
from precision_accuracy import fixture_inputs, photo_inputs

from pymafx_ros.backends.cpu_features import detect_cpu_features
from pymafx_ros.backends.export.programs import HeadProgram, export_head
from pymafx_ros.backends.names import BackendUnavailableError
from pymafx_ros.backends.tensorrt.input_shapes import engine_profiles
from pymafx_ros.backends.tensorrt.options import EngineOptions
from pymafx_ros.backends.tensorrt_backend import TensorRTBackend
from pymafx_ros.model.factory import build_model
from pymafx_ros.model.hand_rows import hands_to_run, select_hands, visibility_inputs
from pymafx_ros.model.projection import project_points
from pymafx_ros.pipeline.devices import describe_device

MEAN_MM, MAX_MM = 2.0, 10.0
KINEMATIC_JOINTS = 55
IDENTITY_6D = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
# Decoders of every rotation the regressors refine, and the initial rotations they add to.
ROTATION_DECODERS = ("decpose", "decrhand", "decorient_rhand", "dechead", "decorient_face")
ROTATION_INITS = ("init_pose", "init_rhand", "init_lhand", "init_orient", "init_face")
# (s, tx, ty): the body about 2.5 m away, shifted right so the mesh straddles the maps' edge.
EDGE_CAMERA = (0.9, 1.0, 0.0)


def _mm(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
    distance = 1e3 * torch.linalg.vector_norm(a.float() - b.float(), dim=-1)
    distance = distance.nan_to_num(float("inf"))
    return round(float(distance.mean()), 4), round(float(distance.max()), 4)


def compare(
    case: str, got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]
) -> dict[str, object]:
    """One case's line: joints and vertices in mm, NaN count, the bounds."""
    joints = _mm(
        got["smplx_joints"][:, :KINEMATIC_JOINTS], want["smplx_joints"][:, :KINEMATIC_JOINTS]
    )
    vertices = _mm(got["smplx_verts"], want["smplx_verts"])
    nans = sum(int(torch.isnan(v).sum()) for v in got.values() if v.is_floating_point())
    within = max(joints[0], vertices[0]) <= MEAN_MM and max(joints[1], vertices[1]) <= MAX_MM
    return {
        "case": case,
        "people": int(want["smplx_joints"].shape[0]),
        "joints_mm_mean": joints[0],
        "joints_mm_max": joints[1],
        "vertices_mm_mean": vertices[0],
        "vertices_mm_max": vertices[1],
        "nan_count": nans,
        "within_bounds": bool(within and nans == 0),
    }


def degenerate(model):
    """A copy of ``model`` predicting the identity for every rotation (zero pose) with its body
    camera fixed at ``EDGE_CAMERA``."""
    variant = copy.deepcopy(model)
    with torch.no_grad():
        for regressor in variant.regressor:
            for name in (*ROTATION_DECODERS, "deccam"):
                layer = getattr(regressor, name)
                layer.weight.zero_()
                layer.bias.zero_()
            for name in ROTATION_INITS:
                buffer = getattr(regressor, name)
                identity = torch.tensor(IDENTITY_6D, device=buffer.device)
                buffer.copy_(identity.repeat(buffer.shape[1] // 6).reshape(1, -1))
            regressor.init_cam.copy_(torch.tensor([EDGE_CAMERA], device=regressor.init_cam.device))
    return variant


def degenerate_case(model, compiler, crops, vis, max_people: int) -> dict[str, object]:
    """The degenerate network's head: compiled like the engines' head vs eager, same maps."""
    variant = degenerate(model)
    program, outputs, _ = export_head(variant, "mesh")
    device = crops[0].device
    compiled = compiler.compile(program, engine_profiles("head_mesh", max_people), "fp32", device)
    with tempfile.TemporaryDirectory() as folder:  # saved and loaded as the engines are
        compiler.save(compiled, Path(folder) / "head.pt2")
        engine = compiler.load(Path(folder) / "head.pt2", device)
    body, lhand, rhand, face = crops
    vis_hands, flag = visibility_inputs(vis["vis_lhand"], vis["vis_rhand"], body)
    run = hands_to_run(vis["vis_lhand"], vis["vis_rhand"], body.shape[0])
    with torch.inference_mode():
        hands = select_hands(lhand, rhand, run)
        pyramids = variant.encode(body, hands.images, face)
        maps = [level for part in ("body", "hand", "face") for level in pyramids[part]]
        inputs = (*maps, hands.rows, vis_hands, flag)
        got = dict(zip(outputs, engine(*inputs), strict=True))
        head = HeadProgram(variant, "mesh")
        head.output_names = outputs
        want = dict(zip(outputs, head(*inputs), strict=True))
    record = compare("degenerate: zero pose, mesh across the maps' edge (head only)", got, want)
    points = project_points(want["smplx_verts"], want["pred_cam"])
    record["vertices_outside_maps"] = round(float((points.abs() > 1.0).any(-1).float().mean()), 3)
    rotations = want["rotmat"]
    cosine = ((rotations.diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0) / 2.0).clamp(-1.0, 1.0)
    record["max_rotation_deg"] = round(float(torch.rad2deg(torch.acos(cosine)).max()), 4)
    return record


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``argv``: None for sys.argv)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", choices=("fp16", "fp32"), default="fp16")
    parser.add_argument("--max-people", type=int, default=3)
    parser.add_argument("--build-engines", action="store_true", help="build missing engines")
    parser.add_argument("--data", type=Path, help="PyMAF-X data/ folder (default: placeholder)")
    parser.add_argument("--checkpoint", type=Path, help="v1.1 checkpoint (default: placeholder)")
    return parser.parse_args(argv)


def main() -> int:
    args = parse_args()
    if not torch.cuda.is_available():
        print("tensorrt_agreement.py: no CUDA device (torch.cuda.is_available() is False)",
              file=sys.stderr)  # fmt: skip
        return 2
    device = torch.device("cuda")
    model, info = build_model(data_dir=args.data, checkpoint=args.checkpoint, device=device)
    options = EngineOptions(args.max_people, args.build_engines, args.data, args.checkpoint)
    try:
        backend = TensorRTBackend(
            model, args.precision, detect_cpu_features(), device, engines=options
        )
        backend.prepare("mesh")
    except BackendUnavailableError as error:
        print(f"tensorrt_agreement.py: {error}", file=sys.stderr)
        return 2
    context = {
        "precision": args.precision,
        "reference": "eager fp32, TF32 off",
        "gpu": describe_device(device),
        "placeholder_weights": bool(info.placeholder_weights),
    }
    astronaut = astronaut_crops(1, device)
    hidden = torch.tensor([0.05])
    cases = {
        "parity fixture (noise crops)": fixture_inputs(),
        **photo_inputs(),
        "astronaut, no visible hand": (astronaut, {"vis_lhand": hidden, "vis_rhand": hidden}),
    }
    ok = True
    with tf32(False), torch.inference_mode():
        for case, (crops, vis) in cases.items():
            crops = [crop.to(device) for crop in crops]
            got = backend.predict(*crops, **vis, profile="mesh").as_dict()
            want = model.predict(*crops, **vis, profile="mesh")
            record = compare(case, got, want)
            ok &= record["within_bounds"]
            print(json.dumps({**record, **context}), flush=True)
    visible = torch.tensor([0.9])
    with tf32(False):
        record = degenerate_case(
            model, backend.compiler, astronaut, {"vis_lhand": visible, "vis_rhand": visible},
            args.max_people,
        )  # fmt: skip
    ok &= record["within_bounds"]
    print(json.dumps({**record, **context, "precision": "fp32 head"}), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
