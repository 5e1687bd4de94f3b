"""Households' personal data as a key may see it (spec/API.md): names, phone numbers and
addresses masked for keys without ``--pii`` (admins always see them), in every answer.

>>> mask_name("王小明"), mask_phone("13812341234"), mask_address("双宝村2号")
('王**', '138****1234', '双宝村****')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HOUSEHOLD_FIELDS = ("head_name", "phone", "address")


def mask_name(name: str | None) -> str | None:
    """The family name and ``**``: ``王**``."""
    return None if not name else name[0] + "**"


def mask_phone(phone: str | None) -> str | None:
    """The first three and last four digits: ``138****1234`` (short numbers: all stars)."""
    if not phone:
        return phone
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_address(address: str | None) -> str | None:
    """The first three characters (the village, usually) and ``****``."""
    if not address:
        return address
    return address[:3] + "****" if len(address) > 3 else "****"


MASKS = {"head_name": mask_name, "phone": mask_phone, "address": mask_address}


def household(body: Mapping[str, Any], pii: bool) -> dict[str, Any]:
    """A household record or detail as this key may see it."""
    out = dict(body)
    if not pii:
        from graphsvc.analysis.requests import mask_request

        for field, mask in MASKS.items():
            if field in out:
                out[field] = mask(out[field])
        if out.get("recent_contacts"):  # a request's text is the household's, like its name
            out["recent_contacts"] = [{**c, "request": mask_request(c.get("request"))}
                                      for c in out["recent_contacts"]]
    return out
