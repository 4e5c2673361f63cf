"""Requirements as properties, and the engines that check them.

Public API:

* :data:`REGISTRY`, :func:`by_id` -- every catalogue requirement and its checks
* :class:`Checker`, :func:`check`, :class:`Report`, :class:`Verdict` -- the verdict matrix
* :class:`Run` -- witnesses and counterexamples (replay, JSON, ITF, step table)
* :class:`Explorer`, :class:`ExploreStats` -- explicit-state breadth-first search
* :class:`Encoding` -- the z3 transition relation derived from the tables
* :data:`MUTANTS`, :func:`kill`, :func:`killers` -- seeded model mutants
* :func:`generate_mutants`, :func:`mutant_by_name`, :mod:`adequacy` -- mutants generated from
  the tables, one lookup for seeded and generated, and their verdicts (killed or equivalent)
* :func:`lockstep` -- do two models look the same from outside?
"""

from . import _adequacy as adequacy
from ._check import REPRODUCED, REPRODUCED_MEANING, Checker, Report, Verdict, check, kill, killers, reproduced
from ._encode import Encoding, all_inputs
from ._explorer import Explorer, ExploreStats, StopSearch, default_progress
from ._genmutants import GenMutant
from ._genmutants import generate as generate_mutants
from ._lockstep import Lockstep, lockstep
from ._mutants import MUTANTS, Mutant
from ._mutants import by_name as mutant_by_name
from ._registry import REGISTRY, Requirement, by_id
from ._runs import ReplayError, Run, dump, input_from_json, input_json

__all__ = [
    "MUTANTS",
    "REGISTRY",
    "REPRODUCED",
    "REPRODUCED_MEANING",
    "Checker",
    "Encoding",
    "ExploreStats",
    "Explorer",
    "GenMutant",
    "Lockstep",
    "Mutant",
    "ReplayError",
    "Report",
    "Requirement",
    "Run",
    "StopSearch",
    "Verdict",
    "adequacy",
    "all_inputs",
    "by_id",
    "check",
    "default_progress",
    "dump",
    "generate_mutants",
    "input_from_json",
    "input_json",
    "kill",
    "killers",
    "lockstep",
    "mutant_by_name",
    "reproduced",
]
