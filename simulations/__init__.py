"""Planning: the SimPy model of a hall, running the same dispatch policy as the live engine."""
