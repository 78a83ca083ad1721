"""f-string format specs that %-formatting renders the same way (for str, int, float and bool)."""

from __future__ import annotations

import re

# f-string format specs that %-formatting renders identically (for str, int, float and bool values).
_STR_SPEC = re.compile(r"(?P<align>[<>])?(?P<width>[1-9][0-9]*)?(?:\.(?P<precision>[0-9]+))?(?P<type>s?)")
_NUMBER_SPEC = re.compile(
    r"(?P<align>[<>])?(?P<sign>[+ ])?(?P<alt>#)?(?P<zero>0)?(?P<width>[1-9][0-9]*)?"
    r"(?:\.(?P<precision>[0-9]+))?(?P<type>[dxXoeEfFgG])"
)


def percent_spec(spec: str, conversion: str | None) -> str | None:
    """The %-format equivalent of an f-string spec, or None when there is no exact one."""
    strings = _STR_SPEC.fullmatch(spec)
    if strings is not None and (conversion is not None or strings["type"] == "s"):
        # The value is a str (a conversion's result, or the "s" type demands one): strings
        # align left unless ">" says otherwise.
        flag = "-" if strings["width"] and strings["align"] != ">" else ""
        precision = f".{strings['precision']}" if strings["precision"] is not None else ""
        return f"{flag}{strings['width'] or ''}{precision}{conversion or 's'}"
    number = _NUMBER_SPEC.fullmatch(spec)
    if number is None or conversion is not None:
        return None
    if number["zero"] and number["align"]:
        return None  # "<05d" pads with zeros on the right; % cannot
    if number["precision"] is not None and number["type"] in "dxXo":
        return None  # invalid for integers: the original raises
    flags = ("-" if number["align"] == "<" else "") + (number["sign"] or "") + (number["alt"] or "")
    flags += number["zero"] or ""
    precision = f".{number['precision']}" if number["precision"] is not None else ""
    return f"{flags}{number['width'] or ''}{precision}{number['type']}"
