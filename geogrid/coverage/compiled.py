"""The walking-area kernels compiled ahead of time, at install (``make venv`` runs ``python -m geogrid.coverage.compiled``).

Numba's on-disk cache still costs the first call of every process about 0.6 s (LLVM starts and links the
cached code), more than a whole city's searches take. The same Python functions (:func:`walk._reach`,
:func:`raster._paint`, :func:`raster._straight`) built once into an extension module load in a millisecond.
The module is stamped with a hash of the kernels' source: after an edit without a rebuild, or where no C
compiler was found at install, :func:`kernel` hands out the just-in-time version, which gives the same results.
"""

from __future__ import annotations

import hashlib
import importlib
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
MODULE = "_kernels_aot"
SIGNATURES = {
    "reach": ("walk", "_reach", "Tuple((i8[:], i8[:], i8[:], f8[:]))(i8[:], i8[:], f8[:], i8[:], f8[:], f8)"),
    "paint": ("raster", "_paint", "void(f8[:, :], i8, f8, i8[:], f8[:, :], f8, f8[:, :])"),
    "straight": ("raster", "_straight", "b1[:](f8[:, :], i8[:], f8)"),
}


_BUILD_STAMP = 0


def _stamp() -> int:
    return _BUILD_STAMP


def source_stamp() -> int:
    """A hash of the kernels' source files: the built module must have been built from these."""
    digest = hashlib.sha256(b"".join((HERE / f"{name}.py").read_bytes() for name in ("walk", "raster")))
    return int.from_bytes(digest.digest()[:7], "big")


@cache
def _built() -> Any | None:
    """The compiled module when it exists and matches the source, else None."""
    try:
        module = importlib.import_module(f"geogrid.coverage.{MODULE}")
    except ImportError:
        return None
    return module if module.stamp() == source_stamp() else None


def kernel(name: str, jit: Callable[..., Any]) -> Callable[..., Any]:
    """The ahead-of-time build of kernel ``name`` when there is a current one, else ``jit``."""
    built = _built()
    return getattr(built, name) if built is not None else jit


def build() -> Path:
    """Compile the kernels into ``geogrid/coverage/_kernels_aot*.so`` (about a minute; needs a C compiler)."""
    from numba.core.errors import NumbaPendingDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumbaPendingDeprecationWarning)
        from numba.pycc import CC

        cc = CC(MODULE)
    cc.output_dir = str(HERE)
    cc.verbose = False
    for name, (module, function, signature) in SIGNATURES.items():
        jitted = getattr(importlib.import_module(f"geogrid.coverage.{module}"), function)
        cc.export(name, signature)(jitted.py_func)
    global _BUILD_STAMP
    _BUILD_STAMP = source_stamp()  # numba freezes a global's value into the code it compiles
    cc.export("stamp", "i8()")(_stamp)
    cc.compile()
    return next(HERE.glob(f"{MODULE}*.so"))


if __name__ == "__main__":
    print(f"compiled {build()}")
