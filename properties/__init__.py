"""Requirements as properties, and the engines that check them.

Public API:

* :class:`Explorer`, :class:`ExploreStats` -- explicit-state breadth-first search
"""

from ._explorer import Explorer, ExploreStats, default_progress

__all__ = ["ExploreStats", "Explorer", "default_progress"]
