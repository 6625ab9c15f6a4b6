"""Prefect tasks of yuqing: retry, timeout and cache policy around calls into ``yuqing_core``."""
