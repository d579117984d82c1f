"""Validation at the boundary: one InputError per bad field, naming the field and the rule."""

from __future__ import annotations

import math
import numbers
from pathlib import Path


class InputError(ValueError):
    """A value given to celab breaks one of its documented rules (the message names the value
    and the rule). celab raises it, or a subclass, for every bad input it detects; the command
    line turns it into one line and exit code 2, while any other exception is a bug (exit 1).
    It is a ValueError, so library callers may catch either."""


def existing_file(path: str | Path, error: type[ValueError] = InputError) -> Path:
    """``path`` as a Path, or ``error("<path>: no such file")`` when nothing is there."""
    path = Path(path)
    if not path.exists():
        raise error(f"{path}: no such file")
    return path


def as_int(name: str, value: object, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int, or ValueError naming ``name``; booleans and fractions are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        v = int(value)
    elif math.isfinite(value) and float(value).is_integer():
        v = int(value)
    else:
        raise InputError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and v < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise InputError(f"{name} must be <= {maximum}, got {v}")
    return v


def as_float(name: str, value: object, minimum: float | None = None, maximum: float | None = None,
             strict_min: bool = False) -> float:
    """``value`` as a finite float, or ValueError naming ``name`` and the rule."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"{name} must be finite, got {value!r}")
    if minimum is not None and (v <= minimum if strict_min else v < minimum):
        rule = ">" if strict_min else ">="
        raise InputError(f"{name} must be {rule} {minimum}, got {v:g}")
    if maximum is not None and v > maximum:
        raise InputError(f"{name} must be <= {maximum}, got {v:g}")
    return v


#: The words a boolean may be written as, on the command line or in a file.
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes"), ("false", "0", "no")


def coerce(value: object, kind: type, where: str, optional: bool = False) -> object:
    """A parameter given as a string (the command line) or a TOML value, as ``kind``.

    ``kind`` is bool, int, float or str; ``optional``: ``none``, ``null``, an empty string or
    None give None. An integer may be written as a whole float (``2.0``); booleans are never
    numbers. Anything else raises InputError naming ``where`` and the type expected. The
    agents' parameters, the bandits' and the MDPs' environment arguments all read through
    here, so the rules are the same everywhere.
    """
    text = value.strip() if isinstance(value, str) else value
    if optional and (text is None or (isinstance(text, str) and text.lower() in
                                      ("none", "null", ""))):
        return None
    if kind is bool:
        if isinstance(text, bool):
            return text
        if isinstance(text, str) and text.lower() in TRUE_WORDS + FALSE_WORDS:
            return text.lower() in TRUE_WORDS
        raise InputError(f"{where} must be true or false, got {value!r}")
    if kind is int:
        if isinstance(text, numbers.Integral) and not isinstance(text, bool):
            return int(text)  # exactly: beyond 2**53 a float would round it
        if isinstance(text, str):
            try:
                return int(text)
            except ValueError:
                pass
        try:
            if isinstance(text, bool):
                raise TypeError
            f = float(text)  # type: ignore[arg-type]
            if not math.isfinite(f) or f != int(f):
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"{where} must be an integer, got {value!r}") from None
        return int(f)
    if kind is float:
        try:
            if isinstance(text, bool):
                raise TypeError
            return float(text)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"{where} must be a number, got {value!r}") from None
    return text


def as_choice(name: str, value: object, choices: tuple[str, ...],
              aliases: dict[bool, str] | None = None) -> str:
    """``value`` as one of the words ``choices`` (case-insensitive), or InputError naming
    ``name`` and the words.

    ``aliases`` maps the booleans (given as booleans or as the words of :data:`TRUE_WORDS` and
    :data:`FALSE_WORDS`) to the choice they stand for, for a parameter that was once a boolean.
    """
    text = value.strip().lower() if isinstance(value, str) else value
    if isinstance(text, str) and text in choices:
        return text
    if aliases:
        if isinstance(text, str) and text in TRUE_WORDS + FALSE_WORDS:
            text = text in TRUE_WORDS
        numpy_bool = getattr(text, "shape", None) == () and text.dtype.kind == "b"
        if isinstance(text, bool) or numpy_bool:
            return aliases[bool(text)]
    words = " or ".join(choices) if len(choices) == 2 else ", ".join(choices)
    extra = ""
    if aliases:
        extra = " (or " + ", ".join(f"{'true' if k else 'false'} = {v}"
                                    for k, v in sorted(aliases.items(), reverse=True)) + ")"
    raise InputError(f"{name} must be {words}{extra}, got {value!r}")
