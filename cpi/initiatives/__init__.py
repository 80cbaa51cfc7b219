"""Enablement initiatives: who took part, what it cost, what it changed and returned."""
