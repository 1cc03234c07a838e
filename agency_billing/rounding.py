"""Rounding of billed time, free of the ORM.

Durations are in hours (Odoo's timesheet unit); rules are in minutes, as a
client's contract states them ("billed in 15-minute increments, rounded up,
30 minutes minimum per entry").
"""

import math

UP = "up"
NEAREST = "nearest"
DOWN = "down"
METHODS = [
    (UP, "Up"),
    (NEAREST, "To the nearest"),
    (DOWN, "Down"),
]


def round_hours(
    hours: float, increment_minutes: int = 0, method: str = UP, minimum_minutes: int = 0
) -> float:
    """The billed duration of one entry, in hours."""
    minutes = round(hours * 60, 6)  # 0.1 h is 6.000000001 minutes in floating point
    if increment_minutes and increment_minutes > 0:
        steps = minutes / increment_minutes
        if method == UP:
            steps = math.ceil(steps)
        elif method == DOWN:
            steps = math.floor(steps)
        elif method == NEAREST:
            steps = math.floor(steps + 0.5)
        else:
            raise ValueError(f"unknown rounding method {method!r}")
        minutes = steps * increment_minutes
    if minimum_minutes and minutes < minimum_minutes:
        minutes = minimum_minutes
    return round(minutes / 60, 6)
