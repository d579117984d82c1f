"""Agent specifications: ``name:param=value,param=value`` strings and agent registries.

Both labs describe an agent by a registry name plus hyperparameters, for instance
``reinforce:alpha=0.4,baseline=false``. A list of agents is written with commas between agents;
a comma-separated ``key=value`` without a name continues the previous agent's parameters, so
``greedy,reinforce:alpha=0.4,baseline=false`` is two agents.

An agent class outside the registries is named by its import path, ``module:Class``, in place
of the registry name: ``mypkg.agents:MOSS:alpha=2``. The name is an import path when the field
after its first colon is a (dotted) identifier rather than ``key=value``, and either the module
is dotted or the class name starts with a capital letter (so ``ucb:c`` stays a malformed
parameter of ``ucb``). Such a class must subclass the lab's agent base class.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from .validate import InputError, coerce


class Agent:
    """Base of every agent: hyperparameters stored unchanged under their own names.

    Subclasses set ``name`` (the registry name) and define ``__init__`` with keyword
    hyperparameters that have defaults; ``__init__`` validates them (ValueError naming the
    parameter and its range).
    """

    name: ClassVar[str] = ""
    #: The name spelled out when ``name`` is an abbreviation (help texts); empty otherwise.
    long_name: ClassVar[str] = ""
    #: "certainty-equivalence" (fits a model, acts on it), "policy-gradient" or "model-free"
    family: ClassVar[str] = "certainty-equivalence"
    #: Float parameters for which inf is a valid value (a clip range: no clipping); every
    #: other float parameter must be finite.
    unbounded: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A class that sets no ``name`` of its own is named by its class name (labels)."""
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__

    @classmethod
    def spec_name(cls) -> str:
        """The name a specification gives: the registry name of a lab's own agent, the import
        path ``module:Class`` of any other class."""
        return cls.name if cls.__dict__.get("_registered") else import_path(cls)

    @classmethod
    def _hyperparameters(cls) -> list[inspect.Parameter]:
        """The constructor's named parameters (none for a class without its own
        ``__init__``, whose ``object.__init__`` takes ``*args, **kwargs``)."""
        named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        return [p for p in inspect.signature(cls.__init__).parameters.values()
                if p.name != "self" and p.kind in named]

    @classmethod
    def param_names(cls) -> list[str]:
        return [p.name for p in cls._hyperparameters()]

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {p.name: p.default for p in cls._hyperparameters()}

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters, as given to the constructor."""
        return {p: getattr(self, p) for p in self.param_names()}

    @property
    def label(self) -> str:
        """Display name: the registry name, with the parameters that differ from the defaults."""
        defaults = self.defaults()
        changed = [f"{k}={_fmt(v)}" for k, v in self.get_params().items() if v != defaults[k]]
        return f"{self.name}({', '.join(changed)})" if changed else self.name

    @property
    def spec(self) -> str:
        """Complete specification string, parsed back by :func:`build` to an equal agent."""
        params = self.get_params()
        if not params:
            return self.spec_name()
        return self.spec_name() + ":" + ",".join(f"{k}={_fmt(v)}" for k, v in params.items())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_params() == other.get_params()

    def __hash__(self) -> int:
        return hash((type(self), tuple(self.get_params().items())))


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)


def registry(classes: Iterable[type[Agent]]) -> dict[str, type[Agent]]:
    """A lab's registry, name -> class, each class marked as the lab's own: its specification
    names it by ``name`` (any other agent class is named by its import path)."""
    out: dict[str, type[Agent]] = {}
    for cls in classes:
        cls._registered = True
        out[cls.name] = cls
    return out


def import_path(obj: Any) -> str:
    """``module:qualname`` of a class or function, which :func:`resolve` imports back."""
    return f"{obj.__module__}:{obj.__qualname__}"


_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_IMPORT_PATH = re.compile(rf"({_IDENT}(?:\.{_IDENT})*):({_IDENT}(?:\.{_IDENT})*)")


def is_import_path(name: str) -> bool:
    """Whether ``name`` is an import path ``module:attribute`` (dotted names both)."""
    return _IMPORT_PATH.fullmatch(name) is not None


def _names_class(head: str, field: str) -> bool:
    """Whether the spec ``head:field...`` starts with an agent class's import path rather than
    a registry name and its parameters: ``field`` is an identifier (not ``key=value``) and the
    module is dotted or the class name capitalised."""
    return (is_import_path(f"{head}:{field}")
            and ("." in head or field.rpartition(".")[2][:1].isupper()))


def short_name(name: str) -> str:
    """The class or function name of an import path ``module:Name`` (names problems and
    files); any other name unchanged."""
    return name.rpartition(":")[2] if is_import_path(name) else name


def resolve_callable(path: str, what: str) -> Any:
    """:func:`resolve`, refusing an object that is not callable (a builder, a class)."""
    obj = resolve(path, what)
    if not callable(obj):
        raise InputError(f"{what} {path!r} is not callable (a builder function or a class)")
    return obj


def resolve(path: str, what: str) -> Any:
    """The object at import path ``module:attr`` (``what`` names it in errors).

    Raises
    ------
    ValueError
        One line naming the path: the module cannot be imported, or has no such attribute.
    """
    module, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module)
    except Exception as e:  # an import error, or any error raised while importing
        raise InputError(f"{what} {path!r}: cannot import module {module!r} "
                         f"({type(e).__name__}: {e})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{what} {path!r}: module {module!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def split_specs(text: str) -> list[str]:
    """Split ``"a,b:x=1,y=2,c"`` into ``["a", "b:x=1,y=2", "c"]``."""
    out: list[str] = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            raise InputError(f"empty agent name in {text!r}")
        if "=" in token and ":" not in token:
            if not out:
                raise InputError(f"parameter {token!r} given before any agent name")
            out[-1] += "," + token
        else:
            out.append(token)
    return out


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``"reinforce:alpha=0.4"`` -> ``("reinforce", {"alpha": "0.4"})``; a repeated parameter
    (``"ucb:c=1,c=2"``) raises ValueError naming it."""
    head, sep, tail = spec.partition(":")
    cls_name, _, tail_rest = tail.partition(":")
    if sep and _names_class(head.strip(), cls_name.strip()):
        name, rest = f"{head.strip()}:{cls_name.strip()}", tail_rest
    else:
        name, rest = head.strip(), tail
    params: dict[str, str] = {}
    if rest.strip():
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key.strip() or not value.strip():
                raise InputError(f"agent parameter {item.strip()!r} in {spec!r} is not key=value")
            if key.strip() in params:
                raise InputError(f"agent parameter {key.strip()!r} is given twice in {spec!r}")
            params[key.strip()] = value.strip()
    return name, params


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Convert a parameter (a string from the CLI, or a TOML value) to its default's type
    (bool, int or float; other defaults take the value as it is)."""
    kind = type(default)
    return coerce(value, kind, where) if kind in (bool, int, float) else value


def lab_base(registry: dict[str, type[Agent]]) -> type[Agent]:
    """The most specific class every agent of ``registry`` derives from (the lab's base)."""
    classes = list(registry.values())
    common = set.intersection(*(set(c.__mro__) for c in classes))
    return next(c for c in classes[0].__mro__ if c in common)


def _lab_class(registry: dict[str, type[Agent]], cls: Any, where: str, lab: str) -> type[Agent]:
    """``cls`` when it is an agent class of the lab of ``registry``; else ValueError naming
    ``where``."""
    base = lab_base(registry)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise InputError(f"agent {where!r} is not a {lab} agent class (a subclass of "
                         f"{import_path(base)})")
    if cls.__dict__.get("_registered") and registry.get(cls.name) is not cls:
        raise InputError(f"agent {where!r} does not belong to the {lab} lab")
    return cls


def agent_class(registry: dict[str, type[Agent]], name: str, lab: str = "") -> type[Agent]:
    """The class of agent name ``name``: a registry name, or an import path ``module:Class``
    of a subclass of the lab's base class; ValueError naming it otherwise."""
    if name in registry:
        return registry[name]
    if is_import_path(name):
        return _lab_class(registry, resolve(name, "agent"), name, lab)
    known = ", ".join(sorted(registry))
    raise InputError(f"unknown {lab} agent {name!r} (known: {known}, or module:Class)")


def build(registry: dict[str, type[Agent]], spec: str | Agent | type[Agent],
          lab: str = "") -> Agent:
    """An agent from a specification (a registry name or an import path, with optional
    parameters), an agent class (built with its defaults) or an agent object (returned)."""
    if isinstance(spec, Agent):
        _lab_class(registry, type(spec), repr(spec), lab)
        return spec
    if isinstance(spec, type):
        return _lab_class(registry, spec, import_path(spec), lab)()
    if not isinstance(spec, str):
        raise InputError(f"agent must be a name or an agent object, got {spec!r}")
    name, raw = parse_spec(spec)
    cls = agent_class(registry, name, lab)
    defaults = cls.defaults()
    kwargs = {}
    for key, value in raw.items():
        if key not in defaults:
            allowed = ", ".join(defaults) or "none"
            raise InputError(f"agent {name!r} has no parameter {key!r} (parameters: {allowed})")
        kwargs[key] = _coerce(value, defaults[key], f"{name} parameter {key}")
    return cls(**kwargs)


def build_all(registry: dict[str, type[Agent]], agents: str | Agent | Sequence[str | Agent],
              lab: str = "") -> list[Agent]:
    """A list of agents from a comma-separated string, or a list of names and objects.

    Two agents with the same label are refused: their curves could not be told apart.
    """
    if isinstance(agents, (str, Agent)):
        agents = split_specs(agents) if isinstance(agents, str) else [agents]
    built = [build(registry, a, lab) for a in agents]
    if not built:
        raise InputError("at least one agent is needed")
    labels = [a.label for a in built]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise InputError(f"agent {dup[0]!r} is given twice")
    return built
