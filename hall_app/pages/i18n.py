"""Words the pages show: language choice, labels of codes, and the strings handed to JavaScript.

Message ids are the Chinese text (the source language); ``translations/en`` holds English.
JavaScript gets its strings from the page (a JSON blob), so nothing visible is hard-coded there.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale, gettext

LANG_COOKIE = "lang"
LANG_PARAMS = ("zh", "en")


def N_(message: str) -> str:
    """Mark a message for extraction only; it is translated where it is shown."""
    return message


# Zone names are hall data; the demo hall's are marked here so that English pages name them.
KNOWN_ZONES = (
    N_("企业开办专区"),
    N_("不动产与税务区"),
    N_("社保医保公积金区"),
    N_("综合受理区"),
    N_("老年服务专区"),
    N_("咨询与反映区"),
)

# Pause reasons are stored as the hall writes them (Chinese); the label follows the page.
PAUSE_PRESETS = (N_("午休"), N_("临时离开"), N_("系统故障"))


def page_lang() -> str:
    """``en`` or ``zh``: the language of this page."""
    return "en" if str(get_locale()).startswith("en") else "zh"


def zone_label(zone: str) -> str:
    return gettext(zone) if zone else ""


def service_name(service: dict[str, Any]) -> str:
    """A service's name in the page's language (from its ``name_zh``/``name_en``)."""
    if page_lang() == "en" and service.get("name_en"):
        return str(service["name_en"])
    return str(service.get("name_zh") or service.get("code", ""))


def hall_name(name_zh: str, name_en: str) -> str:
    return name_en if page_lang() == "en" and name_en else name_zh


def priority_labels() -> dict[str, str]:
    return {
        "none": gettext("无需优先"),
        "elderly": gettext("老年人"),
        "disabled": gettext("残疾人"),
        "military": gettext("军人"),
        "pregnant": gettext("孕妇"),
    }


def status_labels() -> dict[str, str]:
    return {
        "waiting": gettext("排队中"),
        "called": gettext("已叫号"),
        "serving": gettext("办理中"),
        "done": gettext("已办结"),
        "no_show": gettext("已过号"),
        "cancelled": gettext("已取消"),
        "held": gettext("已挂起"),
    }


def window_state_labels() -> dict[str, str]:
    return {
        "closed": gettext("未开启"),
        "open": gettext("服务中"),
        "paused": gettext("暂停服务"),
    }


def error_strings() -> dict[str, str]:
    """Titles for the API's error codes (its message is shown under the title)."""
    return {
        "network": gettext("网络连接失败,请稍后重试"),
        "unauthorized": gettext("登录已过期,请重新登录"),
        "forbidden": gettext("没有权限执行此操作"),
        "not_found": gettext("未找到"),
        "invalid": gettext("输入有误"),
        "invalid_transition": gettext("当前状态下不能执行此操作"),
        "conflict": gettext("操作冲突,请刷新后重试"),
        "hall_closed": gettext("当前不在办公时间"),
        "service_disabled": gettext("该事项暂停取号"),
        "daily_cap_reached": gettext("该事项今日号源已取完"),
        "too_many_requests": gettext("操作过于频繁,请稍后再试"),
        "busy": gettext("系统繁忙,请稍后重试"),
        "rating_key": gettext("评价链接无效"),
        "invitation_expired": gettext("评价邀请已过期"),
        "error": gettext("操作失败"),
    }


def common_strings() -> dict[str, Any]:
    """Strings every page script may use (placeholders in braces: ``{n}``)."""
    return {
        "minutes": gettext("{n} 分钟"),
        "estimate": gettext("约 {median} 分钟,最长约 {p90} 分钟"),
        "estimate_short": gettext("{median}–{p90} 分钟"),
        "no_wait": gettext("无需等待"),
        "live": gettext("实时更新"),
        "offline": gettext("连接中断,正在重连…"),
        "status": status_labels(),
        "priority": priority_labels(),
        "errors": error_strings(),
    }
