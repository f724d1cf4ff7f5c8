"""`option`: a dataclass field declared with its help, so that one declaration serves Python, the docs and the
command line (`fastseq train`'s flags are generated from the fields of `TrainConfig` and `Architecture`)."""
from dataclasses import field, is_dataclass, replace

__all__ = ['option']


def option(default, help, **cli):
    """A config field: its default, its help, and for the command line optionally `type` (else the field's
    annotation), `choices` and `metavar`. Mutable defaults (a dict, a dataclass) are copied for each instance."""
    meta = dict(help=help, **cli)
    if isinstance(default, dict): return field(default_factory=lambda: dict(default), metadata=meta)
    if is_dataclass(default): return field(default_factory=lambda: replace(default), metadata=meta)
    return field(default=default, metadata=meta)
