"""The reads' paging: typed rows without their position, and the cursor of the next page (its last position)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from notify.readmodels.queries import InboxRow, _page

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _fetched(count: int) -> list[dict[str, Any]]:
    """Rows as the inbox query fetches them (asyncpg records read like these mappings), newest first."""
    return [
        {
            "id": uuid4(),
            "event_type": "lianxin.registry.MemberRegistered",
            "event_id": f"e-{n}",
            "subject_id": f"s-{n}",
            "title": f"t{n}",
            "body": "v1:sealed",
            "link": None,
            "created_at": AT,
            "read_at": None,
            "position": 100 - n,
        }
        for n in range(count)
    ]


def test_one_row_more_than_the_limit_means_a_next_page_from_the_last_row_shown() -> None:
    fetched = _fetched(4)  # limit 3, fetched with one extra
    items, cursor = _page(fetched, 3, InboxRow)  # type: ignore[arg-type]
    assert [item.event_id for item in items] == ["e-0", "e-1", "e-2"]
    assert all(isinstance(item, InboxRow) for item in items)
    assert cursor == "98"  # the position of e-2: the next page reads below it


def test_the_last_page_has_no_cursor_and_rows_keep_every_column_but_the_position() -> None:
    fetched = _fetched(2)
    items, cursor = _page(fetched, 3, InboxRow)  # type: ignore[arg-type]
    assert cursor is None
    assert items[1] == InboxRow(**{k: v for k, v in fetched[1].items() if k != "position"})
    with pytest.raises(AttributeError):
        items[0].position  # type: ignore[attr-defined]  # noqa: B018
