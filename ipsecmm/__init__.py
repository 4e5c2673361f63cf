"""ipsecmm: a formal model and test generator for IPsec mobility and multihoming.

Subpackages: ``ipsecmm.model`` (machines, databases, profiles, the sans-IO step),
``ipsecmm.properties`` (requirements as properties, z3 and explicit-state
engines) and ``ipsecmm.gen`` (vectors, conformance suite, diagrams, report).
"""

__version__ = "0.1.0"
