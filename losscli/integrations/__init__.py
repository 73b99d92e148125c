"""Integrations with training libraries, each behind an optional extra (`pip install 'losscli[transformers]'`).

Nothing here is imported by `import losscli`: a module is loaded only when it is imported by name, and one whose
library is missing says which extra installs it.
"""
