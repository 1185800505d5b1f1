"""Cron schedules (five fields, UTC): the one parser, and the longest time between two runs.

    parse_cron(text)          -> Cron   ValueError naming the field that is wrong
    max_interval_minutes(c)   -> int    the longest gap between consecutive runs

A job's "missed run" alert fires when its last success is older than the longest gap plus
the job's timeout, so the gap is computed from the schedule itself, not guessed: a job at
`0 3 * * 1-5` may go 72 hours without a run over a weekend and must not page on Sunday.

Syntax: numbers, `*`, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, month and
day-of-week names (JAN, MON), day of week 0-7 (0 and 7 are Sunday), and the macros
@hourly, @daily, @weekly, @monthly, @yearly. When both day of month and day of week are
restricted, a day matches either (the cron rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["Cron", "parse_cron", "max_interval_minutes"]

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_NAMES = {
    3: {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))},
    4: {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
}
_MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
           "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool
    fields: str = ""  # the five fields, macros expanded ('@daily' → '0 0 * * *')

    def runs_on(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        return dom and dow


def _value(token: str, index: int) -> int:
    name, low, high = _FIELDS[index]
    names = _NAMES.get(index, {})
    if token.lower() in names:
        return names[token.lower()]
    if not token.isdigit():
        raise ValueError(f"{name} field: {token!r} is not a number{' or a name' if names else ''}")
    value = int(token)
    if not low <= value <= high:
        raise ValueError(f"{name} field: {value} is outside {low}-{high}")
    return value


def _field(text: str, index: int) -> tuple[frozenset[int], bool]:
    name, low, high = _FIELDS[index]
    out: set[int] = set()
    for part in text.split(","):
        if not part:
            raise ValueError(f"{name} field: empty list item in {text!r}")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{name} field: step {step_text!r} must be a positive number")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _value(a, index), _value(b, index)
            if start > end:
                raise ValueError(f"{name} field: range {base!r} runs backwards")
        else:
            start = _value(base, index)
            end = high if step_text else start
        out.update(range(start, end + 1, step))
    if index == 4 and 7 in out:
        out = (out - {7}) | {0}
    return frozenset(out), text != "*"


def parse_cron(text: str) -> Cron:
    """A five-field cron expression (or a macro); ValueError with the field at fault."""
    source = " ".join(str(text).split())
    fields = _MACROS.get(source.lower(), source).split(" ")
    if len(fields) != 5:
        raise ValueError(f"{source!r} has {len(fields)} field(s); a schedule is five fields 'minute hour day-of-month month day-of-week' "
                         "(e.g. '30 2 * * *' for 02:30 UTC daily) or @hourly/@daily/@weekly/@monthly")
    parsed = [_field(f, i) for i, f in enumerate(fields)]
    cron = Cron(source, parsed[0][0], parsed[1][0], parsed[2][0], parsed[3][0], parsed[4][0], parsed[2][1], parsed[4][1], " ".join(fields))
    if max_interval_minutes(cron) is None:
        raise ValueError(f"{source!r} never runs (no day matches its day-of-month and month); fix the schedule")
    return cron


def max_interval_minutes(cron: Cron) -> int | None:
    """The longest gap in minutes between two consecutive runs over eight calendar years
    (leap years and every weekday alignment included); None when it never runs."""
    times = sorted(h * 60 + m for h in cron.hours for m in cron.minutes)
    within = max((b - a for a, b in zip(times, times[1:], strict=False)), default=0)
    first, last = times[0], times[-1]
    start = date(2024, 1, 1)
    matched = [n for n in range(366 * 8) if cron.runs_on(start + timedelta(days=n))]
    if not matched:
        return None
    across = max(((b - a) * 1440 - last + first for a, b in zip(matched, matched[1:], strict=False)), default=0)
    if len(matched) == 1:
        across = 366 * 8 * 1440
    return max(within, across)
