"""The verdict names, defined once: the analysis gives them, every reporter shows them, `--fail-on` takes them.

Kept below every other module (it imports nothing), so that the command line can list them without loading the
analysis and numpy.
"""

from __future__ import annotations

STEPPED = "stepped"
SMOOTH = "smooth"
INCONCLUSIVE = "inconclusive"
ERROR = "error"
VERDICTS = (STEPPED, SMOOTH, INCONCLUSIVE, ERROR)  # the order summaries and tables list them in
