"""The strict base of every request body: unknown fields and control characters refused."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def no_control_characters(cls, value: Any) -> Any:
        if isinstance(value, str) and any(ord(ch) < 32 and ch not in "\t\n" for ch in value):
            raise ValueError("control characters are not allowed")
        return value
