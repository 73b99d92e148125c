"""What each run was: its configuration read from what is on disk, never executing or unpickling anything.

The pipeline, one module per role: `files` finds the files around a run (the Trainer output folder it belongs
to, or its own folder) and reads them (JSON, YAML with the safe loader only, model cards); readers hand over what
they met while reading as `Run.configs`; `interpret` turns each kind of stated configuration into the same facts;
`derive` adds what the log shows (peak learning rate, steps per epoch, the start), marked as derived; `resolve`
picks one value per key in a documented order and warns once when files disagree; `record` is the result every
output shows (`KEYS`). `build.run_config(run)` does it all for one run.

Nothing heavy is imported here: `import losscli.config` stays light.
"""

from __future__ import annotations

from losscli.config.record import KEYS, UNKNOWN, RunConfig

__all__ = ["KEYS", "UNKNOWN", "RunConfig"]
