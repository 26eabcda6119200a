"""Bridges to other simulators: jaxley 0.14 models (`from_jaxley`) and the NIR
interchange format (`to_nir`, `from_nir`)."""

from .jaxley import from_jaxley as from_jaxley
from .jaxley import jaxley_traces as jaxley_traces
from .nir import from_nir as from_nir
from .nir import to_nir as to_nir

__all__ = ["from_jaxley", "from_nir", "jaxley_traces", "to_nir"]
