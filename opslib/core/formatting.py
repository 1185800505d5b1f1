"""Formatting for people: the one place that turns numbers, money, dates and text into the
strings documents show. Models compute; templates look up and apply these as filters
(registered in `opslib.core.templates`, nowhere else); Python code calls them directly.
"""

from __future__ import annotations

import math
import shlex
from datetime import date
from typing import Any

__all__ = ["FILTERS", "Verbatim", "anchor", "aws_cron", "cell", "comment", "shquote", "shell_code", "duration", "decimal", "isodate", "money", "number", "percent", "quantity",
           "signed_money"]


def number(value: float) -> str:
    """99.9 → '99.9', 95.0 → '95', 0.6000000001 → '0.6'."""
    return f"{round(value, 4):g}"


def quantity(value: float) -> str:
    """A usage quantity: 1,234,567 with separators from 1,000 up, else up to three decimals (0.125, 12.5)."""
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{round(value, 3):g}"


def money(value: float | None) -> str:
    """$1,234 for whole-dollar amounts ≥ 100, $12.34 below, $0.00012 for tiny unit costs;
    'unknown' for None (unknown is not zero)."""
    if value is None:
        return "unknown"
    if abs(value) >= 100:
        return f"${value:,.0f}"
    if abs(value) >= 1 or value == 0:
        return f"${value:,.2f}"
    if abs(value) >= 0.01:
        return f"${value:.2f}"
    digits = 1 - math.floor(math.log10(abs(value)))
    return f"${value:.{digits}f}"


def signed_money(value: float) -> str:
    """+$12.00, −$3.50 (a true minus sign), $0.00 for less than half a cent."""
    return ("+" if value >= 0.005 else "−" if value <= -0.005 else "") + money(abs(value))


def percent(value: float, places: int = 0, signed: bool = False) -> str:
    """42.4 → '42%'; with places=1 and signed, 3.25 → '+3.2%'."""
    return f"{value:{'+' if signed else ''}.{places}f}%"


def decimal(value: float, places: int = 1) -> str:
    """A number with a fixed count of decimals: 3.14159 → '3.1'."""
    return f"{value:.{places}f}"


def isodate(value: date) -> str:
    return value.isoformat()


def duration(seconds: float) -> str:
    """A span of time for people: 300 → '5 min', 5400 → '1 h 30 min', 266400 → '3 d 2 h'."""
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" + (f" {rest} min" if rest else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "") + (f" {rest} min" if rest else "")


class Verbatim(str):
    """Text that is already what the shell must read: a word quoted by `shquote`, or shell code
    (`shell_code`). A command rendered with quoting inserts it unchanged (quoting it again
    would pass the quotes on as characters)."""

    __slots__ = ()


def shquote(text: Any) -> str:
    """One shell word (POSIX sh): a value that lands in a command, quoted for the shell."""
    return Verbatim(shlex.quote(str(text)))


def shell_code(text: Any) -> str:
    """A value that is itself a command (a dependency's probe written in the parameters): the
    shell runs it as written, so it is inserted as it is, never quoted into one word."""
    return Verbatim(str(text))


def comment(text: Any) -> str:
    """Prefix every line with '# ' (expected output inside a shell block)."""
    return "\n".join(f"# {line}" if line else "#" for line in str(text).splitlines())


def cell(text: Any) -> str:
    """Make a value safe for a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def anchor(title: str) -> str:
    """GitHub-style heading anchor."""
    out = []
    for ch in title.lower().strip():
        if ch.isalnum() or ch in "-_":
            out.append(ch)
        elif ch == " ":
            out.append("-")
    return "".join(out)


_MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
           "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def aws_cron(schedule: str) -> str:
    """A five-field cron schedule as AWS writes it (EventBridge rules and Scheduler): six fields
    with the year, `?` in whichever of day of month / day of week is `*`, days of week by name
    (AWS counts them 1-7 from Sunday, cron 0-7): '15 3 * * 1-5' → 'cron(15 3 ? * MON-FRI *)', '*/10 * * * *' → 'cron(0/10 * * * ? *)'."""
    fields = _MACROS.get(schedule.strip(), schedule).split()
    if len(fields) != 5:
        return f"cron({schedule})"
    minute, hour, dom, month, dow = (f.replace("*/", "0/", 1) if i < 2 else f for i, f in enumerate(fields))  # AWS steps from a start: 0/10

    def day(token: str) -> str:
        return _DAYS[int(token)] if token.isdigit() and int(token) < len(_DAYS) else token.upper()

    if dow == "*":
        dow = "?"
    else:
        dow = ",".join("-".join(day(t) for t in part.split("-")) for part in dow.split(","))
        if dom == "*":
            dom = "?"
    return f"cron({minute} {hour} {dom} {month} {dow} *)"


FILTERS = {"aws_cron": aws_cron, "number": number, "quantity": quantity, "money": money, "signed_money": signed_money, "percent": percent,
           "decimal": decimal, "isodate": isodate, "comment": comment, "cell": cell, "anchor": anchor, "shquote": shquote, "shell_code": shell_code, "duration": duration}
