"""Import an earlier revision of neurosim next to the working tree's, for
side-by-side (A/B) timings in one process.

`load(rev)` extracts `neurosim/` at git revision `rev` into a temporary folder
under the name `neurosim_<rev>` and imports it; both versions then run
interleaved in the same process.
"""

from __future__ import annotations

import importlib
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load(rev: str):
    """The package `neurosim` as it was at git revision `rev`."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", rev],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    name = f"neurosim_{sha}"
    if name in sys.modules:
        return sys.modules[name]
    dest = pathlib.Path(tempfile.mkdtemp(prefix="neurosim-ab-"))
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", sha, "neurosim"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    pkg = dest / "neurosim"
    for path in pkg.rglob("*.py"):
        text = path.read_text()
        new = re.sub(r"\bneurosim\.", f"{name}.", text)
        if new != text:
            path.write_text(new)
    pkg.rename(dest / name)
    sys.path.insert(0, str(dest))
    return importlib.import_module(name)
