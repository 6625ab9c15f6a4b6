"""Warning levels (预警级别), defined once: I 特别重大 (red) … IV 一般 (blue).

The number is the level's rank, 1 the most severe, as stored in the database
(``warnings.level``, ``events.level``) and compared in code (``level <= 2``
means II or above). Everything else a person sees of a level — its numeral,
Chinese name, colour name and print colour — comes from here.

>>> Level(4).label, Level.II.name_zh, Level.III.colour
('IV级（一般）', '重大', '黄色')
>>> Level.parse("ii"), Level.parse(3), Level.parse("1")
(<Level.II: 2>, <Level.III: 3>, <Level.I: 1>)
"""

from __future__ import annotations

from enum import IntEnum

from yuqing_core.errors import InvalidInput


class Level(IntEnum):
    """A warning level; the value is its rank (1 = I, the most severe; 4 = IV)."""

    I = 1  # noqa: E741 - the Roman numeral is the level's name
    II = 2
    III = 3
    IV = 4

    @property
    def numeral(self) -> str:
        """I, II, III or IV."""
        return self.name

    @property
    def name_zh(self) -> str:
        """特别重大, 重大, 较大 or 一般."""
        return _NAMES_ZH[self]

    @property
    def label(self) -> str:
        """IV级（一般）: how reports, notices and the CLI name a level."""
        return f"{self.name}级（{self.name_zh}）"

    @property
    def colour(self) -> str:
        """红色, 橙色, 黄色 or 蓝色 (the colour the level is known by)."""
        return _COLOURS[self]

    @property
    def rgb(self) -> str:
        """The level's print colour as hex RRGGBB; yellow is darkened so that it reads on paper."""
        return _RGB[self]

    @classmethod
    def parse(cls, value: object) -> Level:
        """A level from ``"II"``, ``2``, ``"2"`` or a ``Level``; ``InvalidInput`` for anything else."""
        if isinstance(value, bool):
            raise InvalidInput("应为预警级别 I、II、III、IV 之一")
        if isinstance(value, int) and value in _BY_RANK:
            return cls(value)
        text = str(value).strip().upper()
        if text in cls.__members__:
            return cls[text]
        if text.isdigit() and int(text) in _BY_RANK:
            return cls(int(text))
        raise InvalidInput(f"未知的预警级别 {value!r}（应为 I、II、III、IV 之一）")

    @classmethod
    def label_of(cls, rank: int | None, default: str = "") -> str:
        """The label of a stored rank that may be empty (an event below every level)."""
        return cls(rank).label if rank in _BY_RANK else default


_NAMES_ZH = {Level.I: "特别重大", Level.II: "重大", Level.III: "较大", Level.IV: "一般"}
_COLOURS = {Level.I: "红色", Level.II: "橙色", Level.III: "黄色", Level.IV: "蓝色"}
_RGB = {Level.I: "C00000", Level.II: "E36C09", Level.III: "B38600", Level.IV: "1F5FBF"}
_BY_RANK = frozenset(int(level) for level in Level)
