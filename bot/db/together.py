"""Several small reads as one statement: one round trip to the database instead of one each.

`Together(history=select(...), accounts=select(...))` is a UNION ALL of the parts, each row in one
shape: a column saying whose it is, then slots by Python type (dates, integers, text...), each part's
columns in the slots of their type and NULL in the rest. `split` gives each part's rows back as
named tuples with the part's own column names. The parts keep their WHERE; an ORDER BY or LIMIT
of a part is not allowed (a UNION orders only as a whole): sort the part's rows after.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    cast,
    literal_column,
    null,
    type_coerce,
    union_all,
)
from sqlalchemy.types import NullType, TypeEngine

_NULL: ColumnElement[Any] = literal_column("NULL")  # bare, without a label


class Together:
    def __init__(self, **parts: Select[*tuple[Any, ...]]) -> None:
        slots: list[tuple[type, TypeEngine[Any]]] = []  # (Python type, the first column's type)
        places: dict[str, list[int]] = {}  # each part's columns' slots
        # Per part: what it takes of a row, and its record's maker (a name that repeats or is
        # none is renamed `_3`: such a part is read by position).
        self._readers: list[tuple[str, Callable[[Any], tuple[Any, ...]], Callable[..., Any]]] = []
        for name, part in parts.items():
            if part._order_by_clauses or part._limit_clause is not None:
                raise ValueError(f"{name}: order or limit the rows after `split`, not in the part")
            taken: dict[type, int] = defaultdict(int)
            places[name] = []
            for column in part.selected_columns:
                if isinstance(column.type, NullType):  # a slot is matched by its type
                    raise ValueError(f"{name}: give {column} a type (`type_coerce`)")
                kind = column.type.python_type
                index = [i for i, (k, _) in enumerate(slots) if k is kind]
                if taken[kind] == len(index):  # every slot of this type is taken: one more
                    slots.append((kind, column.type))
                    index.append(len(slots) - 1)
                places[name].append(index[taken[kind]])
                taken[kind] += 1
            record = namedtuple(name, [str(c.key) for c in part.selected_columns], rename=True)  # type: ignore[misc]
            self._readers.append((name, _taker(places[name]), record._make))
        branches = []
        for number, (name, part) in enumerate(parts.items()):
            at = dict(zip(places[name], part.selected_columns, strict=True))
            first = number == 0
            values: list[ColumnElement[Any]] = [literal_column(str(number), Integer)]
            for place, (_, type_) in enumerate(slots):
                own = at.get(place)
                if not first:  # the first part gives each slot its type: the others' are plain
                    values.append(_NULL if own is None else own)
                elif own is not None:
                    values.append(type_coerce(own, type_))
                else:  # typed: PostgreSQL matches a chain of UNIONs pairwise, and two bare NULLs
                    # first would make text, which a later part's date cannot match
                    values.append(cast(null(), type_))
            if first:  # a UNION's columns take the first part's names; the others need none
                values = [value.label(f"slot_{place}") for place, value in enumerate(values)]
            branches.append(part.with_only_columns(*values))
        self.statement: CompoundSelect[*tuple[Any, ...]] = union_all(*branches)

    def split(self, rows: Iterable[Any]) -> dict[str, list[Any]]:
        """Each part's rows (named tuples with the part's column names), in the order read."""
        found: list[list[Any]] = [[] for _ in self._readers]
        for row in rows:
            found[row[0]].append(row)  # slot_0: whose row it is
        return {
            name: [make(take(row)) for row in found[number]]
            for number, (name, take, make) in enumerate(self._readers)
        }


def _taker(places: list[int]) -> Callable[[Any], tuple[Any, ...]]:
    """What a part takes of a row: its slots' values, as a tuple even when it is one."""
    if len(places) == 1:
        only = places[0] + 1
        return lambda row: (row[only],)
    return itemgetter(*(place + 1 for place in places))
