"""Pure parsers for source cells: Indonesian numbers, periods, region names, header detection.

Nothing here touches a file, a database or Airflow. Every parser raises `ParseError` whose
`reason` is one short line naming the value (`not a number: 'abc'`), ready for `raw.rejects`.
"""

from cakupan.parsing.numbers import ParseError, parse_integer, parse_number, parse_percent
from cakupan.parsing.periods import parse_date, parse_month, parse_period, search_period

__all__ = [
    "ParseError",
    "parse_date",
    "parse_integer",
    "parse_month",
    "parse_number",
    "parse_percent",
    "parse_period",
    "search_period",
]
