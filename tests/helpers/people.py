"""Made-up citizens: valid resident ID numbers (GB 11643) and mainland mobile numbers."""

from __future__ import annotations

from queue_engine.domain.identity import id_check_char


def id_number(n: int, region: str = "411702", birth: str = "19900101") -> str:
    """The n-th valid 18-digit ID number (sequence code n, check character computed)."""
    first17 = f"{region}{birth}{n % 1000:03d}"
    return first17 + id_check_char(first17)


def phone(n: int) -> str:
    return f"139{n:08d}"
