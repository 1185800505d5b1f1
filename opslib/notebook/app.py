"""The notebooks as apps and print-outs: `opslib app cost` (Voilà) and `opslib export-pdf`.

    opslib app cost [--params PARAMS] [--port N] [--notebooks DIR]   the cost explorer as a web app, no code shown
    opslib export-pdf HTML… [--out DIR]                              review copies printed to PDF with Chromium

Voilà has no papermill parameters: the app passes the parameters file to the notebook in the
environment variable OPSLIB_PARAMS, which the notebook's parameters cell defaults to (a
papermill run still overrides the cell). Importing this module imports neither Voilà nor
Jupyter; they load when a command runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from opslib.errors import OpslibError

__all__ = ["register", "APPS", "PARAMS_ENV", "voila_command", "cmd_app", "cmd_export_pdf"]

PARAMS_ENV = "OPSLIB_PARAMS"
APPS = {"cost": "10-cost-plan.ipynb"}


def _err(msg: str) -> None:
    print(f"opslib: {msg}", file=sys.stderr)


def voila_command(notebook: Path, port: int, ip: str = "127.0.0.1") -> list[str]:
    """The voila command line: no browser, no sources, the lab template, one notebook."""
    return [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", f"--Voila.ip={ip}",
            "--strip_sources=True", "--template=lab", "--theme=light", "--show_tracebacks=False",
            "--VoilaConfiguration.file_allowlist=['.*\\.png']"]


def cmd_app(args: argparse.Namespace) -> int:
    from opslib.params.models import load_params

    notebook = Path(args.notebooks) / APPS[args.name]
    if not notebook.is_file():
        _err(f"{notebook}: notebook not found; pass --notebooks DIR pointing at the notebooks/ folder.")
        return 2
    env = dict(os.environ)
    if args.params:
        try:
            params = load_params(args.params)
        except OpslibError as exc:
            _err(str(exc))
            return 2
        if args.name == "cost" and params.cost is None:
            _err(f"{args.params}: no cost: section; add drivers, components and budgets to explore costs.")
            return 2
        env[PARAMS_ENV] = str(Path(args.params).resolve())
    print(f"opslib app {args.name}: http://{args.ip}:{args.port}/  (Ctrl-C stops)", file=sys.stderr)
    try:
        return subprocess.call(voila_command(notebook.resolve(), args.port, args.ip), env=env)
    except KeyboardInterrupt:
        return 0


def cmd_export_pdf(args: argparse.Namespace) -> int:
    from opslib.run.export import export_pdf

    code = 0
    for html in map(Path, args.html):
        target = Path(args.out) / html.with_suffix(".pdf").name if args.out else None
        try:
            print(export_pdf(html, target, browser=args.browser))
        except OpslibError as exc:
            _err(str(exc))
            code = 2
    return code


def _port(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("--port takes a number (1024–65535)") from None
    if not 0 < n < 65536:
        raise argparse.ArgumentTypeError("--port takes a number (1024–65535)")
    return n


def register(sub) -> None:
    """Add `app` and `export-pdf` to the `opslib` command's subparsers."""
    a = sub.add_parser("app", help="serve a notebook as a web app with Voilà (sliders and results, no code)")
    a.add_argument("name", choices=sorted(APPS), help="which app: cost (the cost explorer of 10-cost-plan.ipynb)")
    a.add_argument("--params", help="the project's parameters file (default: the notebook's, parameters/shop-platform.yaml)")
    a.add_argument("--port", type=_port, default=8866, help="port to listen on (default 8866)")
    a.add_argument("--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    a.add_argument("--notebooks", default="notebooks", help="the notebooks/ folder (default ./notebooks)")
    a.set_defaults(fn=cmd_app)
    p = sub.add_parser("export-pdf", help="print HTML review copies to PDF with Chromium (for sign-off)")
    p.add_argument("html", nargs="+", help="review copies, e.g. build/<project>/review/10-cost-plan.html")
    p.add_argument("--out", help="folder for the PDFs (default: beside each HTML file)")
    p.add_argument("--browser", default="/usr/bin/chromium", help="Chromium executable (default /usr/bin/chromium)")
    p.set_defaults(fn=cmd_export_pdf)
