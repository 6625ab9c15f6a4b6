"""Prefect flows of yuqing: one module per stage, thin compositions of tasks.

Entrypoints are named the way deployments name them, e.g. ``flows.collect:collect``.
"""
