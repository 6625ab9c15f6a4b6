"""Case policy: case types and their time limits, reminders, overdue escalation, local calendar.

A cases file (``YUQING_CASES_FILE``; every key optional, the defaults below apply)::

    case_types:
      urgent:    {label: 紧急件, limit: same_day}
      enquiry:   {label: 核查件, limit: 3}                   # 3 working days, counted from the next day
      complaint: {label: 投诉件, limit: {working_days: 13, counting: next_day}}
    default_type: enquiry
    deadline_time: "18:00"          # deadlines fall at this local time of the deadline day
    reminders: [1d, 2h]             # 催办: this long before the deadline
    reprimand_after: 3              # working days overdue before the case is listed for 通报
    holidays: [2026-12-31]          # local extra days off
    workdays: []                    # local extra working days
    number_prefix: 督               # case numbers: 督〔2026〕17号
"""

from __future__ import annotations

from datetime import date, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from yuqing_core.cases.calendar import TimeLimit, WorkCalendar, parse_time_limit
from yuqing_core.collect.sources import parse_duration
from yuqing_core.errors import InvalidInput
from yuqing_core.yamlfile import load_validated

# Reminders come before a deadline of at most a year of working days; further ahead is a typo.
MAX_REMINDER_OFFSET = timedelta(days=90)


class CaseType(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    limit: Any

    @field_validator("limit")
    @classmethod
    def _limit(cls, value: Any) -> Any:
        parse_time_limit(value)  # raises a ValueError users can read
        return value

    @property
    def time_limit(self) -> TimeLimit:
        return parse_time_limit(self.limit)


DEFAULT_TYPES = {
    "urgent": CaseType(label="紧急件", limit="same_day"),
    "enquiry": CaseType(label="核查件", limit=3),
    "complaint": CaseType(label="投诉件", limit={"working_days": 13, "counting": "next_day"}),
}


class CasePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_types: dict[str, CaseType] = Field(default_factory=lambda: dict(DEFAULT_TYPES))
    default_type: str = "enquiry"
    deadline_time: time = time(18, 0)
    reminders: list[timedelta] = Field(default_factory=lambda: [timedelta(days=1), timedelta(hours=2)])
    reprimand_after: int = Field(3, ge=1)
    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)
    number_prefix: str = "督"

    @field_validator("reminders", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [
                timedelta(seconds=parse_duration(v, max_s=int(MAX_REMINDER_OFFSET.total_seconds())))
                if isinstance(v, (str, int, float))
                else v
                for v in value
            ]
        return value

    @field_validator("reminders")
    @classmethod
    def _bounded(cls, value: list[timedelta]) -> list[timedelta]:
        for offset in value:
            if not timedelta(0) < offset <= MAX_REMINDER_OFFSET:
                raise InvalidInput(f"催办提前量应大于 0、不超过 {MAX_REMINDER_OFFSET.days} 天")
        return value

    @model_validator(mode="after")
    def _known_default(self) -> CasePolicy:
        if self.default_type not in self.case_types:
            raise InvalidInput(f"default_type {self.default_type!r} 不在 case_types 中（可用：{'、'.join(self.case_types)}）")
        return self

    def case_type(self, name: str | None) -> tuple[str, CaseType]:
        key = name or self.default_type
        if key not in self.case_types:
            raise InvalidInput(
                f"没有督办件类型 {key!r}（可用：{'、'.join(f'{k}（{t.label}）' for k, t in self.case_types.items())}）"
            )
        return key, self.case_types[key]

    def calendar(self) -> WorkCalendar:
        return _calendar(tuple(self.holidays), tuple(self.workdays))


@lru_cache(maxsize=8)
def _calendar(holidays: tuple[date, ...], workdays: tuple[date, ...]) -> WorkCalendar:
    return WorkCalendar(extra_holidays=holidays, extra_workdays=workdays)


def load_policy(path: Path | str | None) -> CasePolicy:
    """The cases file's policy, or the defaults when no file is configured."""
    if path is None:
        return CasePolicy()
    policy, _document = load_validated(path, CasePolicy)
    return policy
