"""A small name -> object registry, shared by models, datasets and metrics.

Example::

    DATASETS = Registry("dataset")

    @DATASETS.register("dsprites")
    def make_dsprites(path=None): ...

    DATASETS.get("dsprites")        # the registered object
    DATASETS.get("nope")            # DatasetError-like InfoganError listing the names
"""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from .errors import InfoganError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects (classes, factories or functions) of one kind.

    Args:
        kind: what the registry holds, used in error messages ("dataset", "model", ...).
        error: the exception class raised for unknown names.
    """

    def __init__(self, kind: str, error: type[InfoganError] = InfoganError) -> None:
        self.kind = kind
        self.error = error
        self._entries: dict[str, T] = {}

    def register(self, name: str, obj: T | None = None, *, overwrite: bool = False) -> Callable[[T], T] | T:
        """Register ``obj`` under ``name``; without ``obj``, return a decorator.

        Raises:
            InfoganError: when ``name`` is taken and ``overwrite`` is false.
        """

        def add(target: T) -> T:
            if name in self._entries and not overwrite:
                raise self.error(f"a {self.kind} named {name!r} is already registered")
            self._entries[name] = target
            return target

        return add if obj is None else add(obj)

    def get(self, name: str) -> T:
        """Return the object registered as ``name``; unknown names list the known ones."""
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise self.error(f"unknown {self.kind} {name!r}; available: {known}") from None

    def unregister(self, name: str) -> T:
        """Remove ``name`` and return what it held (unknown names raise like :meth:`get`)."""
        entry = self.get(name)
        del self._entries[name]
        return entry

    def names(self) -> list[str]:
        """The registered names, in registration order."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
