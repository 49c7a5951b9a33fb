"""Outside systems: one package per system (a client returning dataclasses, its contract in
``docs/``), and ``sandbox/``, which stands in for all of them over real HTTP."""
