"""Generators: conformance vectors and suite, diagrams, the review report.

Command-line verbs live in ``gen/_cli_*.py`` modules, each exposing
``register(subparsers)``; ``ipsecmm.cli`` discovers them.
"""

from ._conformance import Adapter, Observed, ReferenceAdapter, Setup, default_vectors, reference, reference_wire

__all__ = ["Adapter", "Observed", "ReferenceAdapter", "Setup", "default_vectors", "reference", "reference_wire"]
