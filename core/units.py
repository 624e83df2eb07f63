"""The platform's unit parsers: memory sizes and CPU amounts as users write them (Deis syntax)."""
import re

UNITS = {"B": 1, "K": 1024, "KB": 1024, "M": 1024 ** 2, "MB": 1024 ** 2, "G": 1024 ** 3, "GB": 1024 ** 3}


def memory_bytes(text):
    """'512M' -> 536870912 (K, M, G and KB, MB, GB are powers of 1024; no unit means bytes)."""
    number, unit = re.fullmatch(r"([0-9]+)([A-Za-z]*)", text).groups()
    return int(number) * UNITS[unit.upper() or "B"]


def cpus(text):
    """'500m' -> 0.5; '2' -> 2.0 (cores)."""
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def request_and_limit(value):
    """'256M/512M' -> ('256M', '512M'); '512M' -> (None, '512M'); '' -> (None, None)."""
    if not value:
        return None, None
    request, _, limit = value.partition("/")
    return (request, limit) if limit else (None, request)
