"""Everything else a loss log says besides the staircase: one module per kind of finding, records out.

`collect.find_all` runs every rule on what `measure` and `decide` made of the run (`context.Context`) and returns
the findings without words (their `message` is written by `explain_findings`). Each rule is documented in its
module and in docs/method.md (section 7); every threshold is a `Settings` field.
"""
