"""Every tutorial runs end to end in its ``--quick`` mode and writes its figures.

Each tutorial is a separate process (``sys.executable``), as a user would run it,
writing into a temporary folder; a figure counts when it is a PNG that is not
one flat colour. The whole file takes about a minute on two CPU cores.
"""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"
FIGURES = {
    "01_build_a_circuit.py": ["01_network", "01_voltage_traces", "01_rasters"],
    "02_fit_conductances.py": ["02_training", "02_output_voltages"],
    "03_trainable_time_constants.py": ["03_training", "03_tau_vth"],
    "04_hierarchy_of_time_constants.py": [
        "04_training",
        "04_tau_per_layer",
        "04_sample",
    ],
    "05_online_learning.py": ["05_online_learning"],
    "06_recurrent_shd.py": ["06_training", "06_rasters", "06_confusion"],
    "07_dendrites.py": ["07_morphology", "07_traces", "07_fit", "07_fitted_traces"],
    "08_interop.py": ["08_from_jaxley", "08_nir_round_trip"],
}
# Tutorials that need an optional extra: the module they import.
NEEDS = {"08_interop.py": "nir"}


def test_every_tutorial_is_listed():
    assert sorted(p.name for p in TUTORIALS.glob("[0-9][0-9]_*.py")) == sorted(FIGURES)


@pytest.mark.parametrize("script", sorted(FIGURES))
def test_tutorial_quick(script, tmp_path):
    if script in NEEDS:
        pytest.importorskip(NEEDS[script], reason=f"{script} needs neurosim[nir]")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    cmd = [sys.executable, str(TUTORIALS / script), "--quick", "--out", str(tmp_path)]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=240, check=False
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    for name in FIGURES[script]:
        png = tmp_path / f"{name}.png"
        assert png.is_file(), f"{script} did not write {png.name}"
        image = matplotlib.image.imread(png)
        assert image.ndim == 3 and min(image.shape[:2]) > 100, png.name
        assert np.ptp(image[..., :3]) > 0.5, f"{png.name} is blank"
