"""Personal data as a key may see it (spec/API.md): households' names, phone numbers and
addresses, and people's phone numbers, masked for keys without ``--pii`` (admins always see
them), in every answer. People's names are not masked: they stand in the chain by their
office, and every audit lists them.

A mask shows a fixed number of stars, whatever the length of what it hides, so that the
length is not given away either (a name of two characters and one of three look the same).

>>> mask_name("王小明"), mask_phone("13812341234"), mask_address("双宝村2号")
('王**', '138****1234', '双宝村****')
>>> mask_phone("138123412345"), mask_phone("5551234"), mask_address("双宝村")
('138****2345', '****', '****')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HOUSEHOLD_FIELDS = ("head_name", "phone", "address")
PERSON_FIELDS = ("phone",)
STARS = "****"
SHOWN_PHONE = 11  # the first three and last four digits show only from a mobile's length on


def mask_name(name: str | None) -> str | None:
    """The family name and ``**``: ``王**``."""
    return None if not name else name[0] + "**"


def mask_phone(phone: str | None) -> str | None:
    """The first three and last four digits around four stars: ``138****1234``. A shorter
    number (a landline without its area code) would keep too few digits hidden: all stars."""
    if not phone:
        return phone
    if len(phone) < SHOWN_PHONE:
        return STARS
    return phone[:3] + STARS + phone[-4:]


def mask_address(address: str | None) -> str | None:
    """The first three characters (the village, usually) and ``****``."""
    if not address:
        return address
    return address[:3] + STARS if len(address) > 3 else STARS


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


def person(record: Mapping[str, Any], pii: bool) -> dict[str, Any]:
    """A person's record as this key may see it: the phone masked as a household's."""
    out = dict(record)
    if not pii:
        for field in PERSON_FIELDS:
            if field in out:
                out[field] = MASKS[field](out[field])
    return out
