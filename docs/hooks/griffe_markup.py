"""Griffe extension: read neurosim's docstrings as Google style for the site.

Display only; the source is not changed. Two spellings the Google parser does
not know are mapped onto ones it does:

- an ``Example:`` section is read as ``Examples:``, so its ``>>>`` lines render
  as code (as an admonition they would be parsed as Markdown);
- Sphinx roles (``:class:`~neurosim.Network```, ``:func:`compile```) become code
  spans showing the name as Sphinx would (the last part after ``~``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)
ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|obj|exc):`(~?)([^`]+)`")


def _role(match: re.Match) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


class GoogleMarkup(griffe.Extension):
    """Rewrite each docstring as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            text = EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
            obj.docstring.value = ROLE.sub(_role, text)
