"""What each commit was, from a PostgreSQL log written with `log_statement = all` and `%m [%p] %d ` as prefix.

Each session's statements are grouped into its transactions (BEGIN … COMMIT or ROLLBACK); a statement outside a
transaction is an autocommit one, its own commit. Both are counted per database by their shape (the first words of
each statement; literal values and parameters left out), so `python -m bench.profile --statements` can print, per
registration, which reads and writes a service's database paid for, and the next change can start from there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

LINE = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] (\S+) LOG:  (?:execute [^:]+|statement): (.*)$")
WIDTH = 90


def shape(statement: str) -> str:
    return re.sub(r"\s+", " ", statement).strip().rstrip(";")[:WIDTH]


def commits_by_shape(lines: Iterable[str], database: str) -> Counter[str]:
    """Every commit of `database`: 'autocommit: <statement>' or 'transaction: <its statements' shapes>'."""
    counted: Counter[str] = Counter()
    open_transactions: dict[str, list[str]] = {}
    for line in lines:
        match = LINE.match(line.rstrip("\n"))
        if match is None or match.group(2) != database:
            continue
        session, statement = match.group(1), match.group(3)
        word = statement.strip().rstrip(";").upper()
        if word == "BEGIN":
            open_transactions[session] = []
        elif word in ("COMMIT", "ROLLBACK"):
            inside = open_transactions.pop(session, [])
            if word == "COMMIT":
                kept = sorted({shape(s)[:50] for s in inside if not _bookkeeping(s)})
                counted["transaction: " + " | ".join(kept)] += 1
        elif session in open_transactions:
            open_transactions[session].append(statement)
        else:
            counted["autocommit: " + shape(statement)] += 1
    return counted


def _bookkeeping(statement: str) -> bool:
    return statement.startswith("SET LOCAL") or "set_config(" in statement


def report(log: Path, databases: Iterable[str], operations: int) -> dict[str, dict[str, float]]:
    """Per database, commits per operation by shape, most frequent first."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return {
        database: {
            what: round(count / operations, 2)
            for what, count in commits_by_shape(lines, database).most_common()
        }
        for database in databases
    }
