"""Property filters (`where=plan:eq:pro`) as parsed from the API and turned into SQL."""

from __future__ import annotations

from dataclasses import dataclass

from tracklog.store.query import Query

OPERATORS = ("eq", "neq", "contains", "gt", "gte", "lt", "lte")
_COMPARE = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class FilterError(ValueError):
    """A filter the client must correct; the message says how."""


@dataclass(frozen=True)
class Filter:
    """One condition on a top-level property."""

    key: str
    op: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Filter:
        """`PROPERTY:OP:VALUE`; the value may itself contain colons."""
        key, sep, rest = text.partition(":")
        op, sep2, value = rest.partition(":")
        if not key or not sep or not sep2:
            raise FilterError(f"`{text}` is not PROPERTY:OP:VALUE (for example plan:eq:pro).")
        if op not in OPERATORS:
            raise FilterError(f"`{op}` is not an operator; use one of {', '.join(OPERATORS)}.")
        if op in _COMPARE:
            try:
                float(value)
            except ValueError:
                raise FilterError(f"`{op}` compares numbers, and `{value}` is not one.") from None
        return cls(key, op, value)

    def sql(self, q: Query) -> str:
        """This condition over the `properties` column."""
        if self.op in _COMPARE:
            return f"{q.prop_number(self.key)} {_COMPARE[self.op]} {q.param(float(self.value))}"
        text = f"coalesce({q.prop_text(self.key)}, '')"
        if self.op == "eq":
            return f"{text} = {q.param(self.value)}"
        if self.op == "neq":
            return f"{text} != {q.param(self.value)}"
        return q.dialect.contains(text, q.param(self.value))


def in_list(q: Query, column: str, values: list[str]) -> str:
    """`column IN (…)` with one parameter per value."""
    return f"{column} IN ({', '.join(q.param(v) for v in values)})"
