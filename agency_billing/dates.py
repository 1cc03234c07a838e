"""Dates on invoice lines, in the client's language, free of the ORM."""

import functools

import babel.dates

from odoo.tools.misc import babel_locale_parse

# "1 Mar 2027": short, unambiguous in every language
DAY_FORMAT = "d MMM yyyy"


@functools.lru_cache(maxsize=8192)
def format_day(lang_code, day):
    """``day`` as Odoo's ``format_date(env, day, date_format=DAY_FORMAT)`` writes it in ``lang_code``.

    Cached: a billing run writes the same few dates on thousands of lines.
    """
    return babel.dates.format_date(day, format=DAY_FORMAT, locale=babel_locale_parse(lang_code))
