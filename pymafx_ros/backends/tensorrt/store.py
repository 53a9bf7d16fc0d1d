"""The engine store: TensorRT engines of the exported programs, serialised into the artefact
cache, keyed by everything that makes an engine valid.

An engine only runs on the GPU model and the TensorRT build it was made for, so its cache key
holds the GPU's name and compute capability, the TensorRT / Torch-TensorRT / torch versions,
its input profiles (``input_shapes.engine_profiles``), its precision, the weights' hash and
the model code's version. Compiling is the ``EngineCompiler``'s (``compiler``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path

import torch

from pymafx_ros.backends.artefact_cache import ArtefactCache, EntryKey
from pymafx_ros.backends.export.source import ProgramSource
from pymafx_ros.backends.tensorrt.compiler import Engine, EngineCompiler
from pymafx_ros.backends.tensorrt.input_shapes import (
    InputProfile,
    describe_profiles,
    engine_profiles,
    engine_program,
    program_precision,
)

LOG = logging.getLogger(__name__)

ENGINE_FILE = "engine.pt2"
OUTPUTS_FILE = "outputs.json"


def engine_key(
    name: str,
    precision: str,
    profiles: tuple[InputProfile, ...],
    model: Mapping[str, str],
    identity: Mapping[str, str],
) -> EntryKey:
    """The cache key of one engine: program, its precision, input profiles, weights hash and
    code version (``model``), GPU and library versions (``identity``)."""
    inputs = {"weights": model["weights"], "code": model["code"], **identity}
    inputs["profiles"] = describe_profiles(profiles)
    return EntryKey("tensorrt", name, program_precision(name, precision), inputs)


class EngineStore:
    """The engines of one model, precision and batch limit on one GPU: which exist, building
    the missing ones, loading them."""

    def __init__(
        self,
        source: ProgramSource,
        compiler: EngineCompiler,
        device: torch.device,
        precision: str,
        max_people: int,
    ) -> None:
        self.source = source
        self.compiler = compiler
        self.device = device
        self.precision = precision
        self.max_people = max_people
        self.identity = compiler.identity(device)

    @property
    def cache(self) -> ArtefactCache:
        return self.source.cache

    def key(self, name: str) -> EntryKey:
        profiles = engine_profiles(name, self.max_people)
        return engine_key(name, self.precision, profiles, self.source.inputs, self.identity)

    def problem(self, name: str) -> str | None:
        """Why the engine of ``name`` cannot be loaded as it is (None: it can)."""
        return self.cache.check(self.key(name))

    def folder(self, name: str) -> Path:
        return self.cache.root / self.key(name).folder_name

    def build(self, name: str) -> Path:
        """The engine's folder, compiled first when missing or damaged (minutes)."""
        key = self.key(name)
        precision = program_precision(name, self.precision)
        profiles = engine_profiles(name, self.max_people)

        def compile_into(folder: Path) -> None:
            program, outputs, aliases = engine_program(
                self.source, name, self.precision, self.max_people
            )
            start = time.perf_counter()
            LOG.info(
                "compiling %s (%s; %s) on %s: minutes",
                name,
                precision,
                describe_profiles(profiles),
                self.identity.get("gpu", self.device),
            )
            engine = self.compiler.compile(program, profiles, precision, self.device)
            self.compiler.save(engine, folder / ENGINE_FILE)
            names = {"outputs": list(outputs), "aliases": aliases}
            (folder / OUTPUTS_FILE).write_text(json.dumps(names, indent=1))
            LOG.info("compiled %s in %.1f s", name, time.perf_counter() - start)

        return self.cache.get_or_build(key, compile_into, f"TensorRT engine {name} ({precision})")

    def load(self, name: str) -> tuple[Engine, tuple[str, ...], dict[str, str]]:
        """(engine, output names, aliases) of a built engine; a damaged one is discarded and
        the error raised again (it is rebuilt on the next build)."""
        key = self.key(name)
        folder = self.cache.root / key.folder_name
        try:
            names = json.loads((folder / OUTPUTS_FILE).read_text())
            engine = self.compiler.load(folder / ENGINE_FILE, self.device)
        except Exception as error:
            self.cache.discard(key, f"the engine could not be loaded: {error}")
            raise
        return engine, tuple(names["outputs"]), dict(names["aliases"])
