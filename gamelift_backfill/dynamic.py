"""What both dynamic resources share: Args classes made from the one declaration, the
provider's configuration, and errors worded for Python programs.

Part of front end 1 (``backfill_ticket.py``, ``backfill_guard.py``). The providers derive
from :class:`ConfiguredProvider`: dill pickles them by reference (module path and class
name, no instance state), and a destroy that imports them imports this module too, so it
must stay importable under this name.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider

from gamelift_backfill.core.errors import BackfillError, Failure
from gamelift_backfill.declaration import DYNAMIC_SPELLING, PropertyType, ResourceDeclaration
from gamelift_backfill.translate import DYNAMIC, ProviderConfig, phrase


def args_doc(declaration: ResourceDeclaration, intro: str) -> str:
    """An Args class's docstring: ``intro``, then every input as the declaration says it."""
    lines = [intro.strip(), "", "Inputs (keyword arguments; any may be a `pulumi.Input`):", ""]
    for prop in declaration.inputs:
        flags = ", ".join([prop.type, *(["required"] if prop.required else [])])
        description = DYNAMIC_SPELLING.describe(prop, declaration.properties)
        lines.append(f"- ``{prop.name}`` ({flags}): {description}")
    return "\n".join(lines)


PYTHON_TYPES: dict[PropertyType, Any] = {
    "string": str,
    "integer": int,
    "boolean": bool,
    "string[]": list[str],
    "object[]": list[dict[str, Any]],
}


def output_annotations(declaration: ResourceDeclaration) -> dict[str, Any]:
    """A resource class's ``__annotations__``: ``pulumi.Output[T]`` for every property.

    The SDK reads them at run time to type the outputs it hands the program (a whole number
    stays an int: ``activeTicketCount`` is exported as 2, not 2.0)."""
    output: Any = pulumi.Output  # subscripted with a type known at run time only
    return {p.name: output[PYTHON_TYPES[p.type]] for p in declaration.properties}


def _type_name(python_type: Any) -> str:
    """``str`` -> "str", ``list[str]`` -> "list[str]"."""
    return python_type.__name__ if isinstance(python_type, type) else repr(python_type)


class DeclaredArgs:
    """The inputs of a dynamic resource: the keyword arguments its declaration lists."""

    declaration: ClassVar[ResourceDeclaration]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """The class's signature is the declaration's inputs, keyword-only (what
        ``help()``, IDEs and ``inspect.signature`` show): required ones without default."""
        super().__init_subclass__(**kwargs)
        cls.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(
                    p.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=inspect.Parameter.empty if p.required else None,
                    annotation=f"pulumi.Input[{_type_name(PYTHON_TYPES[p.type])}]",
                )
                for p in cls.declaration.inputs
            ]
        )

    def __init__(self, **inputs: Any) -> None:
        names = self.declaration.input_names
        unexpected = sorted(set(inputs) - set(names))
        if unexpected:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s) "
                f"{', '.join(unexpected)}; it takes {', '.join(names)}"
            )
        missing = [p.name for p in self.declaration.inputs if p.required and p.name not in inputs]
        if missing:
            raise TypeError(
                f"{type(self).__name__}() missing required keyword argument(s): "
                f"{', '.join(missing)}"
            )
        for name in names:
            setattr(self, name, inputs.get(name))

    def __getattr__(self, name: str) -> Any:
        """Only reached for a name that is not an input (every input is set in __init__)."""
        raise AttributeError(f"{type(self).__name__} has no input {name!r}")

    def to_props(self) -> dict[str, Any]:
        """The property bag the provider receives: inputs, plus outputs to be filled."""
        props: dict[str, Any] = {name: getattr(self, name) for name in self.declaration.input_names}
        props.update(dict.fromkeys(self.declaration.output_names))
        return props


class ConfiguredProvider(ResourceProvider):
    """A dynamic provider that remembers the stack's configuration.

    Holds no client, lock or session: it is pickled into the stack's state. ``configure``
    sets ``_config`` on the instance the plugin unpickled (never on the one a program
    pickles, so it never enters the state).
    """

    _config: ProviderConfig = ProviderConfig()

    def configure(self, req: ConfigureRequest) -> None:
        """Remember the stack's configuration: ``pulumi.Config()`` does not work here."""
        self._config = ProviderConfig.from_mapping(req.config)


def check_failures(failures: list[Failure]) -> list[CheckFailure]:
    """The behaviour's failures as the dynamic SDK's CheckFailures."""
    return [CheckFailure(f.field, f.reason) for f in failures]


@contextmanager
def worded() -> Iterator[None]:
    """The core's errors with their fix in a Python program's words (``str(error)``)."""
    try:
        yield
    except BackfillError as error:
        raise phrase(error, DYNAMIC) from None
