"""The README's Python example runs as written (with 2 epochs instead of 500)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    code = blocks[0].replace("epochs=500", "epochs=2")
    assert "epochs=2" in code
    scope: dict = {}
    exec(compile(code, str(README), "exec"), scope)
    assert scope["rec"]["out.v"].shape == (256, 202, 2)
    assert len(scope["result"].history["loss"]) == 2
    exec(compile(blocks[1], str(README), "exec"), scope)
    assert "h1->h1" in scope["net"].projections
    exec(compile(blocks[2], str(README), "exec"), scope)
    assert scope["obs"].v["cells"].shape == (2, 6)
    assert scope["params"]["cells"]["HH_gNa"].shape == ()
    exec(compile(blocks[3], str(README), "exec"), scope)
    assert scope["v"].shape == (801, 1, 11) and scope["tip"].shape == (801,)


def test_readme_first_lines_give_install_and_test_commands():
    lines = README.read_text().splitlines()
    head = "\n".join(lines[:8])
    assert "neurosim demo" in head and "python -m pytest -q --durations=15" in head
    ci = (README.parent / ".ci" / "run").read_text()
    assert "python -m pytest -q --durations=15" in ci
    assert 'pip install -e ".[test]"' in ci
