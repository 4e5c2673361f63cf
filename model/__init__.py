"""The executable model of IPsec mobility and multihoming.

Public API (everything else is private and may change):

* :func:`default_scenario`, :func:`load_scenario`, :func:`parse_scenario`,
  :class:`Scenario`, :class:`ScenarioError`, :class:`Options`
* :func:`get_profile`, :data:`PROFILE_NAMES`, :class:`Profile`
* :class:`Model` -- ``initial()``, ``inputs(world)``, ``step(world, input)``
* :class:`Runtime` -- the same step driven by ``transitions`` machines
* :func:`row_key`, :func:`group_key`, :func:`all_rows` -- stable names of the tables' rows
* the records (:class:`World`, :class:`Msg`, ...) and the vocabulary enums
"""

from ._machines import Event, MInput, Row, refusal
from ._model import FIRST_MID, Input, Model, all_rows, group_key, row_key
from ._profiles import PROFILE_NAMES, Profile, get_profile
from ._runtime import Runtime
from ._scenario import (
    OPTION_CHOICES,
    Address,
    Bounds,
    Options,
    Scenario,
    ScenarioError,
    builtin_names,
    builtin_scenario,
    default_scenario,
    load_scenario,
    parse_scenario,
)
from ._state import EMPTY, Initiator, Msg, PeerState, Responder, SAEntry, SPDEntry, Used, World, quiescent
from ._vocab import (
    ALLSA,
    NOADDR,
    NOSA,
    Action,
    Family,
    InKind,
    IState,
    Kind,
    Mode,
    Peer,
    Protection,
    Reason,
    Role,
    RState,
    SAState,
    Trigger,
)

__all__ = [
    "ALLSA",
    "EMPTY",
    "FIRST_MID",
    "NOADDR",
    "NOSA",
    "OPTION_CHOICES",
    "PROFILE_NAMES",
    "Action",
    "Address",
    "Bounds",
    "Event",
    "Family",
    "IState",
    "InKind",
    "Initiator",
    "Input",
    "Kind",
    "MInput",
    "Mode",
    "Model",
    "Msg",
    "Options",
    "Peer",
    "PeerState",
    "Profile",
    "Protection",
    "RState",
    "Reason",
    "Responder",
    "Role",
    "Row",
    "Runtime",
    "SAEntry",
    "SAState",
    "SPDEntry",
    "Scenario",
    "ScenarioError",
    "Trigger",
    "Used",
    "World",
    "all_rows",
    "builtin_names",
    "builtin_scenario",
    "default_scenario",
    "get_profile",
    "group_key",
    "load_scenario",
    "parse_scenario",
    "quiescent",
    "refusal",
    "row_key",
]
