"""Interactions: state machines per kind, parties, routing, and the operations on them."""
