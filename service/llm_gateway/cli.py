"""The `llm-gateway` command.

    llm-gateway [serve] [--config FILE] [--address HOST:PORT] [--workers N]
    llm-gateway check-config FILE
    llm-gateway check-providers [--config FILE]

Without --config (or LLM_GATEWAY_CONFIG) the gateway runs on its embedded
default: the `echo` provider plus every provider whose standard environment
variables are set.
"""

from __future__ import annotations

import argparse
import os
import sys

from .config.loader import ConfigError, load_config
from .server import grpc_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llm-gateway", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the gateway (the default)")
    for p in (parser, serve):
        p.add_argument("--config", default=os.environ.get("LLM_GATEWAY_CONFIG"),
                       help="YAML configuration file (default: the embedded default)")
        p.add_argument("--address", help="host:port to listen on (overrides the config)")
        p.add_argument("--workers", type=int,
                       help="worker processes; 0 = one per core (overrides the config)")
    check = sub.add_parser("check-config", help="validate a configuration file and exit")
    check.add_argument("file")
    probe = sub.add_parser("check-providers",
                           help="ask each configured provider whether it answers, and exit")
    probe.add_argument("--config", default=os.environ.get("LLM_GATEWAY_CONFIG"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check-config":
        return _check(args.file)
    if args.command == "check-providers":
        return _probe(args.config)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"llm-gateway: {exc}", file=sys.stderr)
        return 2
    grpc_settings.apply()  # before the server's modules import grpc
    from .server.main import run

    return run(config, address=args.address, workers=args.workers)


def _check(path: str) -> int:
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"llm-gateway: {exc}", file=sys.stderr)
        return 2
    providers = ", ".join(f"{n} ({p.type})" for n, p in config.providers.items()) or "none"
    print(f"{path}: OK; providers: {providers}; aliases: {len(config.aliases)}")
    return 0


def _probe(path: str | None) -> int:
    """One health check per provider (a cheap authenticated read, such as a
    model list): for deploy pipelines. The server's own health never depends
    on providers, so this is the place to see whether keys and URLs work."""
    import asyncio

    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"llm-gateway: {exc}", file=sys.stderr)
        return 2
    from .gateway import Gateway

    async def probe() -> int:
        gateway = Gateway.from_config(config)
        try:
            names = list(gateway.providers)
            reports = await asyncio.gather(*(gateway.providers[n].check_health() for n in names))
        finally:
            await gateway.aclose()
        for name, report in zip(names, reports, strict=True):
            print(f"{name}: {'ok' if report.ok else 'FAILED'}"
                  + (f" ({report.detail})" if report.detail else ""))
        return 0 if all(r.ok for r in reports) else 1

    return asyncio.run(probe())


if __name__ == "__main__":
    sys.exit(main())
