"""Serve every deployment from this machine: ``python deployments/serve.py`` (the same as ``yuqing serve``).

The deployments themselves are declared in ``flows/deployments.py`` (installed with the project).
"""

from yuqing_core.cli import main

if __name__ == "__main__":
    main(["serve"])
