"""The 督办通知书 as a PDF: HTML laid out by WeasyPrint in the Noto CJK font.

ReportLab cannot embed the Noto CJK fonts Debian ships (their outlines are PostScript/CFF,
which its TrueType embedder refuses), so the notice goes through WeasyPrint (Pango and
fontconfig), which embeds a subset of the font the system has (``fonts-noto-cjk``).
"""

from __future__ import annotations

from html import escape

from queue_engine.domain.efficiency import SupervisionNotice

FONT_FAMILY = "'Noto Serif CJK SC', 'Noto Sans CJK SC', serif"

_STYLE = f"""
@page {{ size: A4; margin: 25mm 22mm; }}
body {{ font-family: {FONT_FAMILY}; font-size: 12pt; line-height: 1.8; color: #111; }}
h1 {{ text-align: center; font-size: 22pt; letter-spacing: 0.3em; color: #b00; margin: 0; }}
.number {{ text-align: center; margin: 4mm 0 8mm; }}
.to {{ font-weight: bold; }}
p {{ text-indent: 2em; margin: 0 0 3mm; }}
.meta {{ margin-top: 6mm; border-top: 1px solid #b00; padding-top: 4mm; }}
.meta p {{ text-indent: 0; }}
.sign {{ text-align: right; margin-top: 14mm; }}
"""


def notice_html(notice: SupervisionNotice) -> str:
    window = f"{escape(notice.window)}号窗口" if notice.window else ""
    facts = "".join(f"<p>{escape(line)}</p>" for line in notice.facts)
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>督办通知书 {escape(notice.number)}</title><style>{_STYLE}</style></head><body>
<h1>督办通知书</h1>
<div class="number">{escape(notice.number)}</div>
<div class="to">{escape(notice.department)}{window}:</div>
{facts}
<p>{escape(notice.required_reply)}</p>
<div class="meta">
<p>被督办窗口:{window or "—"}</p>
<p>所属部门:{escape(notice.department)}</p>
<p>书面回复期限:{notice.reply_by:%Y年%m月%d日}</p>
</div>
<div class="sign">{escape(notice.hall_name)}效能监察<br>{notice.issued_on:%Y年%m月%d日}</div>
</body></html>"""


def render_notice(notice: SupervisionNotice) -> bytes:
    """The notice as PDF bytes (WeasyPrint is imported here: only a red card needs it)."""
    import weasyprint

    pdf: bytes = weasyprint.HTML(string=notice_html(notice)).write_pdf()
    return pdf
