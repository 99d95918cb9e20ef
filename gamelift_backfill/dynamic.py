"""What both dynamic resources share: the Args classes' base (the classes themselves are
generated from the one declaration, ``codegen.py``), the provider's configuration, and
errors worded for Python programs.

Part of front end 1 (``backfill_ticket.py``, ``backfill_guard.py``). The providers derive
from :class:`ConfiguredProvider`: dill pickles them by reference (module path and class
name, no instance state), and a destroy that imports them imports this module too, so it
must stay importable under this name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider

from gamelift_backfill.core.errors import BackfillError, Failure
from gamelift_backfill.declaration import ResourceDeclaration
from gamelift_backfill.translate import DYNAMIC, ProviderConfig, phrase


class DeclaredArgs:
    """What every Args class shares: the property bag its resource hands the provider.

    The Args classes themselves (typed keyword-only ``__init__``, attribute docstrings) are
    generated from the declaration by ``python -m gamelift_backfill.codegen``.
    """

    declaration: ClassVar[ResourceDeclaration]

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
