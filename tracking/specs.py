"""Agent specifications: ``name:param=value,param=value`` strings and agent registries.

Both labs describe an agent by a registry name plus hyperparameters, for instance
``reinforce:alpha=0.4,baseline=false``. A list of agents is written with commas between agents;
a comma-separated ``key=value`` without a name continues the previous agent's parameters, so
``greedy,reinforce:alpha=0.4,baseline=false`` is two agents.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
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

    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        sig = inspect.signature(cls.__init__)
        return {p.name: p.default for p in sig.parameters.values() if p.name != "self"}

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
            return self.name
        return self.name + ":" + ",".join(f"{k}={_fmt(v)}" for k, v in params.items())

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
    name, _, rest = spec.partition(":")
    name = name.strip()
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


def build(registry: dict[str, type[Agent]], spec: str | Agent, lab: str = "") -> Agent:
    """An agent from a registry name with optional parameters, or an agent object (returned)."""
    if isinstance(spec, Agent):
        if spec.name not in registry or not isinstance(spec, registry[spec.name]):
            raise InputError(f"agent {spec!r} does not belong to the {lab} lab")
        return spec
    if not isinstance(spec, str):
        raise InputError(f"agent must be a name or an agent object, got {spec!r}")
    name, raw = parse_spec(spec)
    if name not in registry:
        known = ", ".join(sorted(registry))
        raise InputError(f"unknown {lab} agent {name!r} (known: {known})")
    cls = registry[name]
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
