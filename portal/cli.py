"""The ``portal`` command: run the embedded default, serve, relay, migrate, check the catalog."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    result: int = args.handler(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description=__doc__)
    commands = parser.add_subparsers(title="commands")

    run = commands.add_parser("run", help="migrate, then serve the embedded default (demo)")
    run.add_argument("--host", default=None)
    run.add_argument("--port", type=int, default=None)
    run.set_defaults(handler=_run)

    serve = commands.add_parser("serve", help="serve the portal (no migrations)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=_serve)

    sandbox = commands.add_parser("sandbox", help="serve the sandbox systems alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8900)
    sandbox.set_defaults(handler=_sandbox)

    relay = commands.add_parser("relay", help="run relay workers (the outbox → outside systems)")
    relay.add_argument("--workers", type=int, default=1, help="processes to run side by side")
    relay.add_argument("--no-reconcile", dest="reconcile", action="store_false")
    relay.set_defaults(handler=_relay)

    db = commands.add_parser("db", help="database schema").add_subparsers(title="db commands")
    upgrade = db.add_parser("upgrade", help="apply Alembic migrations up to head")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_db_upgrade)

    catalog = commands.add_parser("catalog", help="the one-thing catalog")
    catalog_commands = catalog.add_subparsers(title="catalog commands")
    check = catalog_commands.add_parser("check", help="validate every YAML file, print figures")
    check.add_argument("--dir", type=Path, default=None, help="catalog directory")
    check.add_argument("--quiet", action="store_true", help="print only problems")
    check.add_argument("--only", nargs="*", default=(), metavar="CODE", help="check these only")
    check.set_defaults(handler=_catalog_check)
    return parser


def _catalog_check(args: argparse.Namespace) -> int:
    from portal.catalog.effects import TARGETS, effect_of, total_effect
    from portal.catalog.loader import DEFAULT_DIR, CatalogError, load_catalog

    try:
        catalog = load_catalog(args.dir or DEFAULT_DIR, only=args.only)
    except CatalogError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"catalog check: {len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    if not args.quiet:
        names = list(TARGETS)
        print(f"{'one-thing':28} {'items':>5} " + " ".join(f"{n:>9}" for n in names))
        effects = {code: effect_of(thing) for code, thing in catalog.things.items()}
        for code, effect in [*effects.items(), ("(all)", total_effect(effects.values()))]:
            cells = []
            for name in names:
                value = effect.figure(name)
                mark = "" if effect.meets(name) in (True, None) else "!"
                cells.append(f"{'—' if value is None else f'{value:.0%}'}{mark:1}".rjust(9))
            print(f"{code:28} {effect.steps_before:>5} " + " ".join(cells))
    items = sum(len(t.items) for t in catalog.things.values())
    print(f"catalog check: {len(catalog.things)} one-things, {items} sub-items, OK")
    return 0


def _run(args: argparse.Namespace) -> int:
    from portal.server import run_embedded

    return run_embedded(host=args.host, port=args.port)


def _serve(args: argparse.Namespace) -> int:
    from portal.server import serve

    return serve(host=args.host, port=args.port, workers=args.workers)


def _sandbox(args: argparse.Namespace) -> int:
    from portal.server import serve_sandbox

    return serve_sandbox(host=args.host, port=args.port)


def _relay(args: argparse.Namespace) -> int:
    from portal.relay.process import run

    return run(workers=args.workers, reconciling=args.reconcile)


def _db_upgrade(args: argparse.Namespace) -> int:
    from portal.db_migrate import upgrade
    from portal.settings import Settings

    upgrade(Settings.from_env().database_url, args.revision)
    return 0


if __name__ == "__main__":
    sys.exit(main())
