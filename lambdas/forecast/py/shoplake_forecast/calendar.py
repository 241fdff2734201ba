"""The holiday/event calendar of the forecast target days, configurable by the shop's country.

Public holidays come from the maintained `holidays` library (country rules, Easter-based dates);
retail events (Black Friday, Cyber Monday) are added on top because they move demand as much as
holidays do. Forecasts need these for future days, so the calendar lives in the model step and
not in the SQL features (which describe history).
"""

from __future__ import annotations

import datetime as dt

import holidays as holidays_lib


class UnknownCountryError(ValueError):
    pass


def black_friday(year: int) -> dt.date:
    nov1 = dt.date(year, 11, 1)
    first_thu = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7)
    return first_thu + dt.timedelta(days=22)


def event_days(country: str, years: range) -> dict[dt.date, str]:
    try:
        days: dict[dt.date, str] = dict(holidays_lib.country_holidays(country, years=list(years)).items())
    except NotImplementedError as e:
        raise UnknownCountryError(f"no holiday calendar for country {country!r}") from e
    for y in years:
        bf = black_friday(y)
        days.setdefault(bf, "Black Friday")
        days.setdefault(bf + dt.timedelta(days=3), "Cyber Monday")
    return days
