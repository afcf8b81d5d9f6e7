"""A wheelhouse made from the distributions installed in this virtualenv, so that the fresh-install
test installs offline (``pip install --no-index --find-links``) the very versions `make venv` pinned.

An installed distribution lists its files in ``.dist-info/RECORD``; a wheel is a zip of the same
files with that directory (PEP 427), named with the tag its ``WHEEL`` file names. Scripts that live
outside site-packages (``../../bin``) are left out: pip makes them again from the entry points."""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

_SKIPPED = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def closure(roots: Iterable[str], extras: Iterable[str] = ()) -> list[metadata.Distribution]:
    """The installed distributions ``roots`` need (with ``extras`` for the roots), recursively."""
    found: dict[str, metadata.Distribution] = {}
    pending = [(name, set(extras)) for name in roots]
    while pending:
        name, wanted = pending.pop()
        key = canonicalize_name(name)
        if key in found:
            continue
        distribution = metadata.distribution(name)
        found[key] = distribution
        for text in distribution.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in (wanted or {""})
            ):
                pending.append((requirement.name, set(requirement.extras)))
    return list(found.values())


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def repack(distribution: metadata.Distribution, out: Path) -> Path:
    """The distribution as a wheel in ``out``."""
    info = Path(str(distribution._path))  # type: ignore[attr-defined]  # its .dist-info directory
    tags = [tag.split("-") for tag in re.findall(r"^Tag: (\S+)$", (info / "WHEEL").read_text(), re.MULTILINE)]
    # the compressed tag set of every tag the wheel had (PEP 425): py2.py3-none-any
    tag = "-".join(".".join(dict.fromkeys(t[i] for t in tags)) for i in range(3))
    name = re.sub(r"[-_.]+", "_", distribution.metadata["Name"])
    wheel = out / f"{name}-{distribution.version}-{tag}.whl"
    root = info.parent
    record: list[str] = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as archive:
        for entry in distribution.files or []:
            relative = str(entry)
            path = root / relative
            if relative.startswith("..") or "__pycache__" in relative or not path.is_file():
                continue
            if Path(relative).parent.name == info.name and Path(relative).name in _SKIPPED:
                continue
            data = path.read_bytes()
            archive.writestr(relative, data)
            record.append(f"{relative},{_digest(data)},{len(data)}")
        record.append(f"{info.name}/RECORD,,")
        archive.writestr(f"{info.name}/RECORD", "\n".join(record) + "\n")
    return wheel


def build(roots: Iterable[str], out: Path, exclude: Iterable[str] = ()) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    excluded = {canonicalize_name(name) for name in exclude}
    return [repack(d, out) for d in closure(roots) if canonicalize_name(d.metadata["Name"]) not in excluded]
