"""The `llm-gateway` command.

    llm-gateway [serve] [--config FILE] [--address HOST:PORT] [--workers N]
    llm-gateway check-config FILE

Without --config (or LLM_GATEWAY_CONFIG) the gateway runs on its embedded
default: the `echo` provider plus every provider whose standard environment
variables are set.
"""

from __future__ import annotations

import argparse
import os
import sys

from .config.loader import ConfigError, load_config


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check-config":
        return _check(args.file)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"llm-gateway: {exc}", file=sys.stderr)
        return 2
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


if __name__ == "__main__":
    sys.exit(main())
