"""Names that become file names, and paths that must stay inside a folder.

A problem's name is part of the file names celab writes (``results/<name>.npz``,
``plots/<name>-regret.png``, ``models/<name>.npz``), so it is checked where it enters
(experiment files, the labs' job constructors, the command line) by :func:`check_name`: 1 to 100
characters among the letters A-Z and a-z, the digits, and ``. _ - + = ,``, the first of them
not ``.`` or ``-``. Such a name is one portable file name: no folder separator, no ``..``, no
hidden file, nothing a shell or another operating system reads differently.

Every file celab writes is, in addition, checked to lie inside its output folder by
:func:`inside` (symbolic links included), just before it is written.
"""

from __future__ import annotations

import re
from pathlib import Path

from .validate import InputError

#: The rule of :func:`check_name`, as error messages state it.
NAME_RULE = ("1 to 100 characters among letters, digits and . _ - + = , "
             "not starting with . or -")
_NAME = re.compile(r"[A-Za-z0-9_+=,][A-Za-z0-9._+=,-]{0,99}")


def valid_name(name: object) -> bool:
    """Whether ``name`` may be a problem name (see :data:`NAME_RULE`)."""
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def check_name(name: object, what: str = "name") -> str:
    """``name`` when it is a valid name, else ValueError naming ``what`` and the rule."""
    if not valid_name(name):
        raise InputError(f"{what} must be {NAME_RULE} (it names files), got {name!r}")
    return name  # type: ignore[return-value]


def inside(folder: str | Path, relative: str | Path) -> Path:
    """``folder / relative``, after checking that it resolves to a path inside ``folder``.

    Both paths are resolved (``..`` and symbolic links followed, whether or not they exist);
    a path that lands outside ``folder``, or on ``folder`` itself, raises ValueError.
    """
    base = Path(folder)
    target = base / relative
    try:
        root = base.resolve()
        real = target.resolve()
    except (OSError, ValueError, RuntimeError) as e:
        raise InputError(f"{target}: not a usable path ({e})") from None
    if root not in real.parents:
        raise InputError(f"{target}: lies outside the folder {base} (it resolves to {real}); "
                         "celab writes only inside its output folder")
    return target
