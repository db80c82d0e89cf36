"""Personal data as medpay shows it in reprs, logs, errors and pages: masked. PIPL treats
a certificate number and a phone number as sensitive personal information; a name is
personal too. The one list of such fields and the one way each is masked live here.

>>> mask_id_no("350181199011193519"), mask_name("张三丰"), mask_phone("13812345678")
('350181********3519', '张**', '138****5678')
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping

__all__ = ["mask_id_no", "mask_name", "mask_phone", "PERSONAL_FIELDS", "mask_value", "masked"]


def mask_id_no(id_no: str) -> str:
    """A certificate number with all but its first 6 and last 4 characters hidden (all of
    it when it is 10 characters or shorter).

    >>> mask_id_no("350181199011193519"), mask_id_no("A1234567")
    ('350181********3519', '********')
    """
    if len(id_no) <= 10:
        return "*" * len(id_no)
    return id_no[:6] + "*" * (len(id_no) - 10) + id_no[-4:]


def mask_name(name: str) -> str:
    """A person's name with all but its first character hidden.

    >>> mask_name("张三"), mask_name("")
    ('张*', '')
    """
    return name[:1] + "*" * (len(name) - 1)


def mask_phone(phone: str) -> str:
    """A phone number with all but its first 3 and last 4 digits hidden.

    >>> mask_phone("13812345678")
    '138****5678'
    """
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


#: Wire names (and Python names) of the fields that hold personal data, with their mask.
PERSONAL_FIELDS: Dict[str, Callable[[str], str]] = {
    "idNo": mask_id_no, "id_no": mask_id_no, "certNo": mask_id_no, "cert_no": mask_id_no,
    "userName": mask_name, "user_name": mask_name, "psnName": mask_name, "psn_name": mask_name,
    "phone": mask_phone, "mobile": mask_phone, "tel": mask_phone,
}


def mask_value(name: str, value: Any) -> Any:
    """``value`` masked when ``name`` is a personal field and the value a string.

    >>> mask_value("idNo", "350181199011193519"), mask_value("payOrdId", "ORD1")
    ('350181********3519', 'ORD1')
    """
    mask = PERSONAL_FIELDS.get(name)
    return mask(value) if mask is not None and isinstance(value, str) else value


def masked(data: Mapping[str, Any]) -> Dict[str, Any]:
    """A copy of a wire dict (nested dicts and lists too) with its personal fields masked,
    for a log line or an event.

    >>> masked({"payOrdId": "ORD1", "idNo": "350181199011193519", "x": [{"userName": "张三"}]})
    {'payOrdId': 'ORD1', 'idNo': '350181********3519', 'x': [{'userName': '张*'}]}
    """
    def walk(k: str, v: Any) -> Any:
        if isinstance(v, Mapping):
            return masked(v)
        if isinstance(v, list):
            return [walk(k, x) for x in v]
        return mask_value(k, v)

    return {k: walk(k, v) for k, v in data.items()}
