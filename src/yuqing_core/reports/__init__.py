"""The report stage: the four documents leaders and units read.

``reports.data`` builds them from the database (``reports.model``);
``reports.render`` writes them as HTML, Markdown, DOCX and a short text,
from templates a user folder may override (``YUQING_TEMPLATES_DIR``).

Import the submodules (``reports.data``, ``reports.render``, ``reports.model``):
this package imports nothing itself, so the cases stage can use the model
without pulling in the builders that depend on it.
"""
