"""yuqing_core: the domain library of yuqing. It knows nothing of Prefect.

The public surface is listed in ``__all__``; everything else is internal.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
