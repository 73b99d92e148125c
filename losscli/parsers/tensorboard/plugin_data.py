"""The hparams plugin's data in an event file, turned into the JSON text the configuration is collected as.

Lightning's TensorBoard logger and Keras' hparams callback state a run's hyperparameters as the hparams plugin's
`session_start_info` summary: a value with no tensor, only metadata whose plugin data is a serialized
`HParamsPluginData`. The collector keeps texts by tag (the Trainer's `args` text among them), so the hparams are
handed over the same way: as JSON of their name and value.
"""

from __future__ import annotations

import json
import math
from typing import Any

HPARAMS_TAG = "_hparams_/session_start_info"


def hparams_text(content: bytes) -> str | None:
    """JSON of the hyperparameters a serialized `HParamsPluginData` holds; None when it holds none (the
    experiment and session end summaries) or is not one."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    try:
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
    except Exception:  # protobuf raises DecodeError, and other errors on junk
        return None
    if data.WhichOneof("data") != "session_start_info":
        return None
    values: dict[str, Any] = {}
    for key, value in data.session_start_info.hparams.items():
        kind = value.WhichOneof("kind")
        if kind == "number_value":
            number = value.number_value
            values[key] = number if math.isfinite(number) else None
        elif kind == "string_value":
            values[key] = value.string_value
        elif kind == "bool_value":
            values[key] = value.bool_value
        else:  # null, list or struct values: not a hyperparameter of one value
            values[key] = None
    return json.dumps(values, sort_keys=True)
