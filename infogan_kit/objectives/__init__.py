"""Objectives: one class per loss family; each owns its phases' forward and backward passes."""
