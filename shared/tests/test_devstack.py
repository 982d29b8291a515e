"""The dev stack really starts PostgreSQL and NATS on free ports, keeps their data and stops them cleanly."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.devstack import EmbeddedNats, EmbeddedPostgres, PortInUseError, ensure_port_free, free_port

pytestmark = pytest.mark.integration

NATS_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "nats" / "nats.conf"


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # Orphans of a killed server may linger as zombies until PID 1 reaps them; they run nothing.
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _children(parent: int) -> list[int]:
    """PostgreSQL backends call setsid(), so they are found by parent, not by session or group."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                members.append(int(entry.name))
    return members


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_free_port_can_be_bound() -> None:
    port = free_port()
    ensure_port_free("127.0.0.1", port, "test")


def test_port_check_names_taken_port_and_env_var(listener: int) -> None:
    with pytest.raises(PortInUseError, match=rf"port {listener} on 127\.0\.0\.1 .*LIANXIN_PG_PORT"):
        ensure_port_free("127.0.0.1", listener, "PostgreSQL", env_var="LIANXIN_PG_PORT")


def test_postgres_keeps_databases_across_restarts(tmp_path: Path) -> None:
    port = free_port()
    with EmbeddedPostgres(tmp_path / "pg", port) as pg:
        assert pg.run_sql("select 1") == [(1,)]
        pg.run_sql("create database kept")
        pid = pg.pid
        assert pid is not None
        server_processes = [pid, *_children(pid)]
    assert len(server_processes) > 1
    assert not [p for p in server_processes if _alive(p)]

    with EmbeddedPostgres(tmp_path / "pg", port) as again:
        assert again.run_sql("select count(*) from pg_database where datname = 'kept'") == [(1,)]


def test_postgres_starts_again_after_kill_9(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg", free_port())
    pg.start()
    pg.run_sql("create table survivor (id int primary key)")
    pg.run_sql("insert into survivor values (1)")
    assert pg.pid is not None
    server_processes = [pg.pid, *_children(pg.pid)]
    pg.kill()
    assert not [p for p in server_processes if _alive(p)]
    assert (tmp_path / "pg" / "pgdata" / "postmaster.pid").exists()

    with EmbeddedPostgres(tmp_path / "pg", pg.port) as recovered:
        assert recovered.run_sql("select id from survivor") == [(1,)]


def test_postgres_refuses_taken_port(tmp_path: Path, listener: int) -> None:
    with pytest.raises(PortInUseError, match=rf"PostgreSQL: port {listener} "):
        EmbeddedPostgres(tmp_path / "pg", listener).start()


def test_postgres_stop_is_idempotent(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg", free_port())
    pg.stop()
    pg.start()
    pg.stop()
    pg.stop()
    assert not pg.running


async def _publish(url: str) -> int:
    import nats

    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="DEVSTACK", subjects=["devstack.>"])
        ack = await js.publish("devstack.kept", b"still here")
        return ack.seq
    finally:
        await nc.close()


async def _read(url: str, seq: int) -> bytes:
    import nats

    nc = await nats.connect(url)
    try:
        msg = await nc.jetstream().get_msg("DEVSTACK", seq)
        return msg.data or b""
    finally:
        await nc.close()


def test_nats_keeps_jetstream_messages_across_restart(tmp_path: Path) -> None:
    with EmbeddedNats(tmp_path / "nats", free_port(), config_file=NATS_CONFIG) as server:
        seq = asyncio.run(_publish(server.url))
        first_pid = server.pid
        server.restart()
        assert server.pid != first_pid
        assert asyncio.run(_read(server.url, seq)) == b"still here"


def test_nats_survives_kill_9_with_acknowledged_messages(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats", free_port(), config_file=NATS_CONFIG)
    server.start()
    seq = asyncio.run(_publish(server.url))
    server.kill()
    with EmbeddedNats(tmp_path / "nats", server.port, config_file=NATS_CONFIG) as again:
        assert asyncio.run(_read(again.url, seq)) == b"still here"


def test_nats_stop_leaves_no_process(tmp_path: Path) -> None:
    server = EmbeddedNats(tmp_path / "nats", free_port())
    server.start()
    pid = server.pid
    assert pid is not None and _alive(pid)
    server.stop()
    server.stop()
    assert not _alive(pid)


def test_nats_refuses_taken_port(tmp_path: Path, listener: int) -> None:
    with pytest.raises(PortInUseError, match=rf"NATS: port {listener} .*LIANXIN_NATS_PORT"):
        EmbeddedNats(tmp_path / "nats", listener).start()


def test_postgres_starts_over_pidfile_naming_an_unrelated_live_process(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg", free_port())
    pg.start()
    pg.kill()
    pidfile = tmp_path / "pg" / "pgdata" / "postmaster.pid"
    lines = pidfile.read_text().splitlines()
    pidfile.write_text("\n".join([str(os.getpid()), *lines[1:]]) + "\n")

    with EmbeddedPostgres(tmp_path / "pg", pg.port) as again:
        assert again.run_sql("select 1") == [(1,)]
