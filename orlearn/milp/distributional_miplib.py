"""Loader for the CSV files published with Distributional MIPLIB (Huang et al., 2024).

Each row of such a file is one instance: the full MPS or LP text in column ``MILP`` and its
format ("mps" or "lp") in column ``format``; other columns (an index, the split, ...) are kept as
metadata. Exports of the dataset sometimes store the text as a Python bytes literal
(``b'NAME ...\\n...'``); it is decoded. :func:`iter_csv_instances` yields the rows and
:func:`csv_to_files` writes them as instance files with a manifest, so ``orlearn milp solve`` and the
branching trainer can use them like any other instance set.

Dataset: https://sites.google.com/usc.edu/distributional-miplib (licence per domain, mostly
CC BY 4.0); W. Huang, T. Huang, A.M. Ferber, B. Dilkina, arXiv:2406.06954.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from orlearn.errors import OrlearnError
from orlearn.milp.io import gzip_bytes, merge_manifest, read_model, write_bytes_atomic

FORMATS = ("mps", "lp")
_NAME_COLUMNS = ("name", "instance", "instance_name", "id")


@dataclass(frozen=True)
class CsvInstance:
    """One row: its position, a file-name-safe name, the format and the model text."""

    row: int
    name: str
    format: str
    text: str
    metadata: dict[str, str] = field(default_factory=dict)


def _decode(value: str) -> str:
    stripped = value.strip()
    if (
        len(stripped) >= 3
        and stripped[0] == "b"
        and stripped[1] in "'\""
        and stripped[-1] == stripped[1]
    ):
        try:
            data = ast.literal_eval(stripped)
        except (SyntaxError, ValueError):
            return value
        if isinstance(data, bytes):
            return data.decode("utf-8", errors="replace")
    return value


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "instance"


def iter_csv_instances(path: str | Path) -> Iterator[CsvInstance]:
    """The instances of a Distributional MIPLIB CSV file, in row order (row numbers from 0)."""
    p = Path(path)
    if not p.is_file():
        raise OrlearnError(f"{p}: no such file")
    # one cell holds a whole model: lift the csv module's 128 kB default field limit
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with p.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        missing = [c for c in ("MILP", "format") if c not in columns]
        if missing:
            raise OrlearnError(
                f"{p}: missing column(s) {', '.join(missing)} (found: {', '.join(columns) or 'none'})"
            )
        name_col = next((c for c in columns if c.lower() in _NAME_COLUMNS), None)
        try:
            for row, record in enumerate(reader):
                fmt = (record.get("format") or "").strip().lower().lstrip(".")
                if fmt not in FORMATS:
                    raise OrlearnError(f"{p}: row {row}: unknown format {record.get('format')!r}")
                text = _decode(record.get("MILP") or "")
                if not text.strip():
                    raise OrlearnError(f"{p}: row {row}: empty MILP text")
                name = _safe(record[name_col]) if name_col and record.get(name_col) else ""
                metadata = {
                    k: v for k, v in record.items() if k not in ("MILP", "format") and k is not None
                }
                yield CsvInstance(row, name or f"{_safe(p.stem)}_{row:05d}", fmt, text, metadata)
        except csv.Error as exc:
            raise OrlearnError(f"{p}: not a readable CSV file ({exc})") from None


def csv_to_files(
    path: str | Path,
    out_dir: str | Path,
    *,
    compress: bool = True,
    limit: int | None = None,
    progress: bool = False,
) -> list[Path]:
    """Write the instances of CSV ``path`` to ``out_dir`` as ``<name>.<format>[.gz]`` files and
    merge them into ``out_dir/manifest.json`` (distribution ``csv:<file stem>``); returns the
    paths. ``limit`` keeps only the first rows."""
    from orlearn.progress import progress_bar

    if limit is not None and limit < 1:
        raise OrlearnError(f"limit must be at least 1, got {limit}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict] = {}
    paths: list[Path] = []
    seen: set[str] = set()
    with progress_bar(f"convert {Path(path).name}", limit, disable=not progress) as advance:
        for inst in iter_csv_instances(path):
            if limit is not None and len(paths) >= limit:
                break
            stem = inst.name if inst.name not in seen else f"{inst.name}_{inst.row:05d}"
            seen.add(stem)
            fname = f"{stem}.{inst.format}" + (".gz" if compress else "")
            data = inst.text.encode()
            if not data.endswith(b"\n"):
                data += b"\n"
            blob = gzip_bytes(data) if compress else data
            write_bytes_atomic(out / fname, blob)
            try:  # text that is no model must not pass as an instance (SCIP parses it once here)
                read_model(out / fname)
            except OrlearnError as exc:
                (out / fname).unlink()
                if entries:  # the rows before stay usable: keep them in the manifest
                    merge_manifest(out, list(entries.values()))
                detail = str(exc).split(": ", 1)[-1]
                raise OrlearnError(f"{path}: row {inst.row}: the MILP text is {detail}") from None
            entries[fname] = {
                "file": fname,
                "distribution": f"csv:{Path(path).stem}",
                "split": inst.metadata.get("split", ""),
                "index": inst.row,
                "source": str(path),
                "sha256": hashlib.sha256(blob).hexdigest(),
            }
            paths.append(out / fname)
            advance(status=fname)
    if not paths:
        raise OrlearnError(f"{path}: no instances (the file has a header but no rows)")
    merge_manifest(out, list(entries.values()))
    return paths
