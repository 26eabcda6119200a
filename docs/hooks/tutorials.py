"""MkDocs hook: the tutorials (jupytext percent scripts) as pages, not executed.

``tutorials/NN_name.py`` becomes the page ``tutorials/NN_name.md``: markdown
cells (``# %% [markdown]``) lose their ``# `` prefix, code cells (``# %%``)
become Python code blocks. ``tutorials/README.md`` becomes ``tutorials/index.md``.
Nothing is run, so the pages show code and prose but no outputs or figures.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "tutorials"
CELL = re.compile(r"^# %%(?P<md> \[(?:markdown|md)\])?")


def percent_to_markdown(text: str, source: str) -> str:
    """Markdown for one jupytext percent script (``source``: its repo path)."""
    cells: list[tuple[bool, list[str]]] = []
    for line in text.splitlines():
        match = CELL.match(line)
        if match:
            cells.append((bool(match.group("md")), []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():  # code before the first marker is a code cell
            cells.append((False, [line]))
    note = (
        f'!!! note "Source"\n    This page is `{source}`, shown without running '
        f"it. Run it from the repository root with `python {source}` (add "
        "`--quick` for a short run); its figures go to `tutorials/out/`.\n"
    )
    blocks: list[str] = []
    for is_markdown, lines in cells:
        if is_markdown:
            body = "\n".join(re.sub(r"^# ?", "", ln) for ln in lines).strip()
        else:
            code = "\n".join(lines).strip("\n")
            body = f"```python\n{code}\n```" if code.strip() else ""
        if body:
            blocks.append(body)
    if blocks and blocks[0].startswith("# "):  # the note goes under the title
        title, _, rest = blocks[0].partition("\n")
        blocks[0] = f"{title}\n\n{note}\n{rest.strip()}".rstrip()
    else:
        blocks.insert(0, note)
    return "\n\n".join(blocks) + "\n"


def on_files(files: Files, config) -> Files:
    """Add the generated tutorial pages to the site's files."""
    for script in sorted(TUTORIALS.glob("[0-9]*.py")):
        source = f"tutorials/{script.name}"
        content = percent_to_markdown(script.read_text(encoding="utf-8"), source)
        files.append(
            File.generated(config, f"tutorials/{script.stem}.md", content=content)
        )
    readme = TUTORIALS / "README.md"
    if readme.exists():
        files.append(
            File.generated(
                config, "tutorials/index.md", content=readme.read_text("utf-8")
            )
        )
    return files
