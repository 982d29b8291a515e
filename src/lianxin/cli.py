"""`lianxin dev` runs the platform on embedded PostgreSQL and NATS; `lianxin token` prints a development JWT;
`lianxin analytics rebuild|export` rebuilds or exports the analytics store."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from analytics import commands as analytics_commands
from lianxin import prodcheck
from lianxin.audit import add_arguments as add_audit_arguments
from lianxin.audit import run_verify
from lianxin.config import SERVICES, DevConfig, analytics_database
from lianxin.keys import add_arguments as add_keys_arguments
from lianxin.keys import run_rotate
from lianxin.platform import Platform
from lianxin.seed import seed_demo
from shared.auth import ROLES, issue_dev_token
from shared.devstack import EmbeddedNats, EmbeddedPostgres, PortInUseError, ensure_port_free
from shared.settings import REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lianxin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="run the whole platform on its embedded default until Ctrl-C")
    check = commands.add_parser(
        "prod-check",
        help="the production topology on loopback under faults; non-zero on any loss (see lianxin.prodcheck)",
    )
    prodcheck.add_arguments(check)
    token = commands.add_parser("token", help="print a development token signed with the key in .lianxin/")
    token.add_argument("--tenant", required=True, help="tenant id, e.g. demo-university")
    token.add_argument(
        "--role", action="append", choices=ROLES, required=True, help="repeat for several roles"
    )
    token.add_argument("--org", action="append", default=[], help="organisation id in scope (repeatable)")
    token.add_argument("--subject", default=None, help="the user id (sub claim)")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    audit_parser = commands.add_parser("audit", help="check the event logs (docs/audit.md)")
    audit_commands = audit_parser.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify",
        help="walk each log against its hash chain and signed "
        "checkpoints; exits 1 naming the first tampered record",
    )
    add_audit_arguments(verify)
    keys = commands.add_parser("keys", help="CIPHER_KEY rotation (docs/audit.md)")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    add_keys_arguments(
        key_commands.add_parser(
            "rotate", help="re-encrypt stored data under the ring's first key; resumable, with progress"
        )
    )
    analytics_commands.register(commands)
    args = parser.parse_args(argv)
    if args.command == "prod-check":
        return prodcheck.run_from_args(args)
    if args.command == "audit":
        return run_verify(args)
    if args.command == "keys":
        return run_rotate(args)
    config = DevConfig.from_env()
    if args.command == "analytics":
        return analytics_commands.run(
            args,
            database=analytics_database(config.data_dir),
            nats_url=f"nats://{config.host}:{config.nats_port}",
        )
    if args.command == "token":
        print(
            issue_dev_token(
                config.signing_key,
                tenant=args.tenant,
                roles=args.role,
                orgs=args.org,
                subject=args.subject,
                ttl_seconds=args.ttl,
            )
        )
        return 0
    return run_dev(config)


def run_dev(config: DevConfig) -> int:
    try:
        ensure_port_free(config.host, config.pg_port, "embedded PostgreSQL", env_var="LIANXIN_PG_PORT")
        ensure_port_free(config.host, config.nats_port, "embedded NATS", env_var="LIANXIN_NATS_PORT")
        for name in SERVICES:
            ensure_port_free(config.host, config.service_ports[name], name, env_var=f"{name.upper()}_PORT")
        ensure_port_free(config.host, config.console_port, "console", env_var="CONSOLE_PORT")
    except PortInUseError as exc:
        print(f"lianxin: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    config.data_dir.mkdir(parents=True, exist_ok=True)
    postgres = EmbeddedPostgres(config.data_dir / "postgres", port=config.pg_port, host=config.host)
    nats = EmbeddedNats(
        config.data_dir / "nats",
        port=config.nats_port,
        host=config.host,
        config_file=REPO_ROOT / "deploy" / "nats" / "nats.conf",
    )
    platform: Platform | None = None
    try:
        print(
            f"starting PostgreSQL on {config.host}:{config.pg_port} and NATS on {config.host}:{config.nats_port}"
        )
        postgres.start()
        nats.start()
        platform = Platform(
            admin_url=postgres.dsn(),
            nats_url=nats.url,
            data_dir=config.data_dir,
            host=config.host,
            ports=config.service_ports,
            public_key=config.public_key,
            console_port=config.console_port,
        )
        print(f"starting {', '.join(SERVICES)} and the console ...")
        platform.start()
        seed_demo(platform.url("registry"), config.signing_key)
        _print_banner(config)
        while not stop.wait(1):
            for service in platform.services.values():
                if not service.alive and not stop.is_set():
                    print(f"{service.name} exited; restarting it (log: {service.log_path})", file=sys.stderr)
                    service.start()
        print("stopping ...")
        return 0
    except Exception as exc:
        print(f"lianxin: {exc}", file=sys.stderr)
        return 1
    finally:
        if platform is not None:
            platform.stop()
        nats.stop()
        postgres.stop()
        print("stopped: every service, NATS and PostgreSQL")


def _print_banner(config: DevConfig) -> None:
    lines = [
        "",
        "Lianxin (连心) is running. Data: " + str(config.data_dir),
        "",
        f"  console   {config.url('console')}   sign in as any demo person (member or secretary)",
        f"            {config.url('console')}/verify   the public letter check (no sign-in)",
        "",
    ]
    for name in SERVICES:
        lines.append(
            f"  {name:9} {config.url(name)}   OpenAPI: {config.url(name)}/docs   ({config.url(name)}/openapi.json)"
        )
    lines += [
        "",
        f"  PostgreSQL postgresql://postgres@{config.host}:{config.pg_port}/postgres",
        f"  NATS       nats://{config.host}:{config.nats_port}",
        "",
        "Demo tenants: demo-university, demo-district. A token (in another terminal):",
        '  TOKEN=$(make -s token ARGS="--tenant demo-university --role committee")',
        f'  curl -H "Authorization: Bearer $TOKEN" {config.url("registry")}/v1/organisations',
        "",
        "Ctrl-C stops everything.",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
