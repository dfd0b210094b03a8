"""Several small reads as one statement: one round trip to the database instead of one each.

`Together(history=select(...), accounts=select(...))` is a UNION ALL of the parts, each row in one
shape: a column saying whose it is, then slots by Python type (dates, integers, text...), each part's
columns in the slots of their type and NULL in the rest. `split` gives each part's rows back as
named tuples with the part's own column names. The parts keep their WHERE; an ORDER BY or LIMIT
of a part is not allowed (a UNION orders only as a whole): sort the part's rows after.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Iterable
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
from sqlalchemy.types import TypeEngine

PART = "part_"


class Together:
    def __init__(self, **parts: Select[*tuple[Any, ...]]) -> None:
        slots: list[tuple[type, TypeEngine[Any]]] = []  # (Python type, the first column's type)
        self._places: dict[str, list[int]] = {}
        self._records: dict[str, type[tuple[Any, ...]]] = {}
        for name, part in parts.items():
            if part._order_by_clauses or part._limit_clause is not None:
                raise ValueError(f"{name}: order or limit the rows after `split`, not in the part")
            taken: dict[type, int] = defaultdict(int)
            places = []
            for column in part.selected_columns:
                kind = column.type.python_type
                index = [i for i, (k, _) in enumerate(slots) if k is kind]
                if taken[kind] == len(index):  # every slot of this type is taken: one more
                    slots.append((kind, column.type))
                    index.append(len(slots) - 1)
                places.append(index[taken[kind]])
                taken[kind] += 1
            self._places[name] = places
            # Renamed where a name repeats or is none (`_3`): such a part is read by position.
            self._records[name] = namedtuple(name, [str(c.key) for c in part.selected_columns], rename=True)
        branches = []
        for number, (name, part) in enumerate(parts.items()):
            at = {
                place: column for place, column in zip(self._places[name], part.selected_columns, strict=True)
            }
            values: list[ColumnElement[Any]] = [literal_column(str(number), Integer).label(PART)]
            for place, (_, type_) in enumerate(slots):
                own = at.get(place)
                # A typed NULL: PostgreSQL matches a chain of UNIONs pairwise, and two bare NULLs
                # make text, which a date of a later part cannot match.
                value = cast(null(), type_) if own is None else type_coerce(own, type_)
                values.append(value.label(f"slot_{place}"))
            branches.append(part.with_only_columns(*values))
        self._names = list(parts)
        self.statement: CompoundSelect[*tuple[Any, ...]] = union_all(*branches)

    def split(self, rows: Iterable[Any]) -> dict[str, list[Any]]:
        """Each part's rows (named tuples with the part's column names), in the order read."""
        found: dict[str, list[Any]] = {name: [] for name in self._names}
        for row in rows:
            name = self._names[row[0]]
            found[name].append(self._records[name](*(row[place + 1] for place in self._places[name])))
        return found
