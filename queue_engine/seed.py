"""The demo hall ``ZMD``: modelled on the Zhumadian citizen centre (驻马店市民中心).

The source yearbook entry describes ~2,000 tickets a working day at ~35 window units, an
enterprise start-up zone (企业开办, done in half a working day), a deed-tax subsidy window
(契税补贴专窗), policy consultation, talent services, an elderly service zone, 24-hour
self-service and a "couldn't get it done" complaint window (办不成事反映窗口). The demo keeps
those zones with 12 services and 22 windows, comprehensive windows (综合窗口) included.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import time
from typing import Any

from queue_engine.domain.hours import OpeningHours
from queue_engine.domain.model import NoShowRule, Service
from queue_engine.domain.policy import DispatchRules


@dataclass(frozen=True)
class WindowSpec:
    number: int
    name: str
    zone: str
    primary: tuple[str, ...]
    secondary: tuple[str, ...] = ()

    @property
    def skills(self) -> dict[str, bool]:
        return {**{s: False for s in self.secondary}, **{s: True for s in self.primary}}

    def to_mapping(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "zone": self.zone,
            "primary": list(self.primary),
            "secondary": list(self.secondary),
        }


@dataclass(frozen=True)
class HallSpec:
    """A hall as an administrator describes it, before it has database ids."""

    code: str
    name_zh: str
    name_en: str
    hours: OpeningHours
    services: tuple[Service, ...]
    windows: tuple[WindowSpec, ...]
    timezone: str = "Asia/Shanghai"
    dispatch: DispatchRules = field(default_factory=DispatchRules)
    no_show: NoShowRule = field(default_factory=NoShowRule)
    notice: str = ""

    def to_mapping(self) -> dict[str, Any]:
        """The hall's whole configuration in the form ``AdminDesk.import_hall`` takes."""
        return {
            "hall": {
                "code": self.code,
                "name_zh": self.name_zh,
                "name_en": self.name_en,
                "timezone": self.timezone,
                "notice": self.notice,
                "hours": self.hours.to_mapping(),
            },
            "rules": {"dispatch": self.dispatch.to_mapping(), "no_show": self.no_show.to_mapping()},
            "services": [asdict(s) for s in self.services],
            "windows": [w.to_mapping() for w in self.windows],
        }


ZONE_ENTERPRISE = "企业开办专区"
ZONE_PROPERTY = "不动产与税务区"
ZONE_SOCIAL = "社保医保公积金区"
ZONE_GENERAL = "综合受理区"
ZONE_ELDERLY = "老年服务专区"
ZONE_CONSULT = "咨询与反映区"

DEMO_SERVICES: tuple[Service, ...] = (
    Service("ENT", "A", "企业开办", "Business start-up", ZONE_ENTERPRISE, 12),
    Service("PERMIT", "B", "工程建设审批", "Construction permits", ZONE_ENTERPRISE, 10),
    Service("REALTY", "C", "不动产登记", "Real estate registration", ZONE_PROPERTY, 8),
    Service("DEEDTAX", "D", "契税补贴", "Deed-tax subsidy", ZONE_PROPERTY, 5),
    Service("TAX", "E", "税务办理", "Tax services", ZONE_PROPERTY, 6),
    Service("SOCIAL", "F", "社会保障", "Social insurance", ZONE_SOCIAL, 4),
    Service("MEDICAL", "G", "医疗保障", "Medical insurance", ZONE_SOCIAL, 4),
    Service("HPF", "H", "住房公积金", "Housing provident fund", ZONE_SOCIAL, 5),
    Service("RESIDENCE", "J", "户籍与出入境", "Residence & travel documents", ZONE_GENERAL, 5),
    Service("TALENT", "K", "人才服务", "Talent services", ZONE_GENERAL, 6),
    Service("ELDER", "L", "老年人综合服务", "Services for the elderly", ZONE_ELDERLY, 6),
    Service("POLICY", "M", "政策咨询", "Policy consultation", ZONE_CONSULT, 3),
    Service("COMPLAINT", "N", "办不成事反映", "'Couldn't get it done' desk", ZONE_CONSULT, 10),
)

DEMO_WINDOWS: tuple[WindowSpec, ...] = (
    WindowSpec(1, "企业开办1", ZONE_ENTERPRISE, ("ENT",), ("TAX",)),
    WindowSpec(2, "企业开办2", ZONE_ENTERPRISE, ("ENT",), ("TAX",)),
    WindowSpec(3, "工程建设审批", ZONE_ENTERPRISE, ("PERMIT",), ("ENT",)),
    WindowSpec(4, "不动产登记1", ZONE_PROPERTY, ("REALTY",), ("DEEDTAX",)),
    WindowSpec(5, "不动产登记2", ZONE_PROPERTY, ("REALTY",), ("DEEDTAX",)),
    WindowSpec(6, "不动产登记3", ZONE_PROPERTY, ("REALTY",)),
    WindowSpec(7, "契税补贴专窗", ZONE_PROPERTY, ("DEEDTAX",), ("REALTY",)),
    WindowSpec(8, "税务1", ZONE_PROPERTY, ("TAX",), ("DEEDTAX",)),
    WindowSpec(9, "税务2", ZONE_PROPERTY, ("TAX",)),
    WindowSpec(10, "社会保障1", ZONE_SOCIAL, ("SOCIAL",), ("MEDICAL",)),
    WindowSpec(11, "社会保障2", ZONE_SOCIAL, ("SOCIAL",), ("MEDICAL",)),
    WindowSpec(12, "医疗保障", ZONE_SOCIAL, ("MEDICAL",), ("SOCIAL",)),
    WindowSpec(13, "住房公积金1", ZONE_SOCIAL, ("HPF",)),
    WindowSpec(14, "住房公积金2", ZONE_SOCIAL, ("HPF",), ("SOCIAL",)),
    WindowSpec(15, "户籍与出入境", ZONE_GENERAL, ("RESIDENCE",)),
    WindowSpec(16, "人才综合服务", ZONE_GENERAL, ("TALENT",), ("POLICY",)),
    WindowSpec(
        17,
        "综合窗口1",
        ZONE_GENERAL,
        ("SOCIAL", "MEDICAL", "HPF", "RESIDENCE"),
        ("TALENT", "DEEDTAX"),
    ),
    WindowSpec(
        18, "综合窗口2", ZONE_GENERAL, ("SOCIAL", "MEDICAL", "HPF", "RESIDENCE"), ("TALENT", "TAX")
    ),
    WindowSpec(19, "老年服务1", ZONE_ELDERLY, ("ELDER",), ("SOCIAL", "MEDICAL")),
    WindowSpec(20, "老年服务2", ZONE_ELDERLY, ("ELDER",), ("HPF", "RESIDENCE")),
    WindowSpec(21, "政策咨询", ZONE_CONSULT, ("POLICY",), ("TALENT",)),
    WindowSpec(22, "办不成事反映", ZONE_CONSULT, ("COMPLAINT",), ("POLICY",)),
)

WEEKDAY_HOURS = ((time(9, 0), time(12, 0)), (time(13, 0), time(17, 0)))


def demo_hall(always_open: bool = False) -> HallSpec:
    hours = (
        OpeningHours.round_the_clock()
        if always_open
        else OpeningHours(weekly={d: WEEKDAY_HOURS for d in range(5)})
    )
    return HallSpec(
        code="ZMD",
        name_zh="驻马店市民中心",
        name_en="Zhumadian Citizen Centre",
        hours=hours,
        services=DEMO_SERVICES,
        windows=DEMO_WINDOWS,
        notice="线上预约不见面,线下办事不排队。请留意叫号,过号请到服务台咨询。",
    )


CLERK_NAMES = (
    "王芳",
    "李娜",
    "张伟",
    "刘洋",
    "陈静",
    "杨帆",
    "赵敏",
    "黄磊",
    "周婷",
    "吴昊",
    "徐丽",
    "孙强",
    "马慧",
    "朱琳",
    "胡军",
    "郭燕",
    "何平",
    "高雪",
    "林涛",
    "罗晶",
    "梁宇",
    "宋佳",
)

DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("admin", "zmd-admin-2026", "admin", "系统管理员"),
    ("supervisor", "zmd-super-2026", "supervisor", "效能监察员"),
    ("kiosk", "zmd-kiosk-2026", "kiosk", "自助取号机"),
    *(
        (f"clerk{n:02d}", "zmd-clerk-2026", "clerk", CLERK_NAMES[(n - 1) % len(CLERK_NAMES)])
        for n in range(1, len(DEMO_WINDOWS) + 1)
    ),
)
