"""Reading and writing MILP instance files, instance-set manifests, and resolving instance specs.

Files are MPS or LP, plain or gzip-compressed (``.mps``, ``.mps.gz``, ``.lp``, ``.lp.gz``).
Written ``.gz`` files are byte-deterministic (gzip header mtime 0, no file name), so the same
model always gives the same bytes and the same sha256.

An instance set is a directory of such files plus ``manifest.json``:
``{"schema": "orlearn.milp.manifest/1", "instances": [{"file", "distribution", "split", "index",
"seed", "generator_version", "params", "sha256"}, ...]}`` with ``file`` relative to the manifest.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import os
import sys
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orlearn.errors import OrlearnError

if TYPE_CHECKING:
    import pyscipopt

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA = "orlearn.milp.manifest/1"
INSTANCE_SUFFIXES = (".mps", ".mps.gz", ".lp", ".lp.gz")
DEFAULT_CACHE_DIR = Path("data/instances")
DEFAULT_N = 20


def instance_format(path: str | Path) -> tuple[str, bool]:
    """(``"mps"`` or ``"lp"``, gzipped?) from the file name; OrlearnError for other names."""
    name = Path(path).name.lower()
    gz = name.endswith(".gz")
    base = name[:-3] if gz else name
    for fmt in ("mps", "lp"):
        if base.endswith("." + fmt):
            return fmt, gz
    raise OrlearnError(
        f"{path}: not an instance file name (expected {', '.join(INSTANCE_SUFFIXES)})"
    )


def is_instance_file(path: str | Path) -> bool:
    """Whether ``path`` has an MPS/LP (optionally .gz) name."""
    try:
        instance_format(path)
    except OrlearnError:
        return False
    return True


@contextlib.contextmanager
def _captured_native_output() -> Iterator[list[str]]:
    """Send the process's stdout/stderr file descriptors to a temporary file while the block runs
    (SCIP's C readers print their errors there even when the model's output is hidden); the
    yielded list receives the captured lines when the block ends."""
    sys.stdout.flush()
    sys.stderr.flush()
    lines: list[str] = []
    with tempfile.TemporaryFile() as capture:
        try:
            saved = [os.dup(1), os.dup(2)]
        except OSError:  # no stdout/stderr to redirect (closed descriptors): nothing to capture
            yield lines
            return
        try:
            os.dup2(capture.fileno(), 1)
            os.dup2(capture.fileno(), 2)
            yield lines
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            capture.seek(0)
            lines.extend(capture.read().decode(errors="replace").splitlines())


def read_model(path: str | Path) -> pyscipopt.Model:
    """Read an MPS/LP file (plain or .gz) into a fresh model with its output hidden.

    Raises OrlearnError with a one-line message for a missing, empty, corrupt or unreadable file
    and for a model without variables.
    """
    import pyscipopt

    p = Path(path)
    if not p.exists():
        raise OrlearnError(f"{p}: no such file")
    if not p.is_file():
        raise OrlearnError(f"{p}: not a file")
    fmt, gz = instance_format(p)
    if p.stat().st_size == 0:
        raise OrlearnError(f"{p}: file is empty")
    if gz:
        try:
            with gzip.open(p, "rb") as fh:
                empty = not fh.read(1)
                while fh.read(1 << 20):  # decompress to the end: catches truncated files
                    pass
        except (OSError, EOFError, zlib.error) as exc:  # zlib.error: a damaged deflate stream
            raise OrlearnError(f"{p}: corrupt gzip file ({exc})") from None
        if empty:
            raise OrlearnError(f"{p}: file is empty")
    model = pyscipopt.Model()
    model.hideOutput()
    with _captured_native_output() as capture:
        try:
            model.readProblem(str(p))
            error = None
        except Exception as exc:  # SCIP reports every read problem as a generic OSError
            error = str(exc)
    if error is not None:
        errors = [ln for ln in capture if "ERROR" in ln]
        detail = errors[0].split("ERROR:", 1)[-1].strip() if errors else error
        raise OrlearnError(f"{p}: not a valid {fmt.upper()} file ({detail})")
    if model.getNVars() == 0:
        raise OrlearnError(f"{p}: the model has no variables")
    return model


def model_bytes(model: pyscipopt.Model, fmt: str = "mps") -> bytes:
    """The model written by SCIP as ``fmt`` ("mps" or "lp"), uncompressed."""
    if fmt not in ("mps", "lp"):
        raise OrlearnError(f"unknown instance format {fmt!r}; use mps or lp")
    with tempfile.TemporaryDirectory(prefix="orlearn-") as tmp:
        target = Path(tmp) / f"model.{fmt}"
        model.writeProblem(str(target), verbose=False)
        return target.read_bytes()


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip: same input, same output (mtime 0, no file name in the header)."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (no half-written files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_model(model: pyscipopt.Model, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (format and compression from the name); returns the path."""
    p = Path(path)
    fmt, gz = instance_format(p)
    data = model_bytes(model, fmt)
    write_bytes_atomic(p, gzip_bytes(data) if gz else data)
    return p


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(path: str | Path) -> list[dict[str, Any]]:
    """Entries of a manifest (a ``manifest.json`` file or a directory holding one); each entry
    gets ``path``, the instance file's location resolved against the manifest's directory."""
    p = Path(path)
    if p.is_dir():
        p = p / MANIFEST_NAME
    if not p.is_file():
        raise OrlearnError(f"{p}: no such manifest")
    try:
        data = json.loads(p.read_text())
        entries = data["instances"]
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and "file" in e for e in entries
        ):
            raise TypeError("entries without 'file'")
    except (ValueError, KeyError, TypeError) as exc:
        raise OrlearnError(f"{p}: not an orlearn instance manifest ({exc})") from None
    return [{**e, "path": str(p.parent / e["file"])} for e in entries]


def write_manifest(directory: str | Path, entries: Sequence[dict[str, Any]]) -> Path:
    """Write ``manifest.json`` in ``directory`` (entries sorted by file, ``path`` keys dropped)."""
    clean = sorted(
        ({k: v for k, v in e.items() if k != "path"} for e in entries), key=lambda e: e["file"]
    )
    target = Path(directory) / MANIFEST_NAME
    text = json.dumps({"schema": MANIFEST_SCHEMA, "instances": clean}, indent=1, sort_keys=True)
    write_bytes_atomic(target, (text + "\n").encode())
    return target


def merge_manifest(directory: str | Path, entries: Sequence[dict[str, Any]]) -> Path:
    """Add or replace ``entries`` (by file) in ``directory``'s manifest, under a file lock so
    that several processes filling one directory (e.g. with different --start) keep all rows."""
    import fcntl

    directory = Path(directory)
    fd = os.open(directory, os.O_RDONLY)  # lock the directory itself: no stray lock files
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            merged = {e["file"]: e for e in read_manifest(directory)}
        except OrlearnError:
            merged = {}
        merged.update((e["file"], e) for e in entries)
        return write_manifest(directory, list(merged.values()))
    finally:
        os.close(fd)


def instance_file_name(name: str, split: str, index: int) -> str:
    """File name of instance ``index`` of ``split`` of distribution ``name``."""
    return f"{name.replace('/', '_')}_{split}_{index:04d}.mps.gz"


def generate(
    name: str,
    split: str,
    n: int,
    out_dir: str | Path,
    *,
    start: int = 0,
    progress: bool = False,
) -> list[Path]:
    """Write instances ``start .. start+n-1`` of ``split`` of distribution ``name`` to ``out_dir``
    as ``.mps.gz`` files and merge them into ``out_dir/manifest.json``; returns the paths.

    Idempotent: a file whose manifest entry (same distribution, seed, generator version) matches
    its sha256 is kept without regenerating it.
    """
    from orlearn.milp.registry import get_distribution
    from orlearn.progress import progress_bar

    dist = get_distribution(name)
    if n < 1:
        raise OrlearnError(f"number of instances must be at least 1, got {n}")
    if start < 0:
        raise OrlearnError(f"start index must be non-negative, got {start}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OrlearnError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    try:
        existing = {e["file"]: e for e in read_manifest(out)}
    except OrlearnError:
        existing = {}
    version = dist.version
    paths: list[Path] = []
    written: list[dict[str, Any]] = []
    with progress_bar(f"generate {name} ({split})", n, disable=not progress) as advance:
        for index in range(start, start + n):
            seed = dist.seed_for(split, index)
            fname = instance_file_name(name, split, index)
            target = out / fname
            old = existing.get(fname)
            entry = {
                "file": fname,
                "distribution": name,
                "split": split,
                "index": index,
                "seed": seed,
                "generator_version": version,
                "params": dist.params,
            }
            keep = (
                old is not None
                and target.is_file()
                and all(old.get(k) == v for k, v in entry.items())
                and old.get("sha256") == sha256_file(target)
            )
            if keep:
                entry["sha256"] = old["sha256"]
            else:
                write_model(dist.sample(seed), target)
                entry["sha256"] = sha256_file(target)
                log.info("wrote %s (seed %d)", target, seed)
            written.append(entry)
            paths.append(target)
            advance(status=fname)
    merge_manifest(out, written)
    return paths


def _instance_files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and is_instance_file(p))


def resolve_instances(
    specs: Sequence[str | Path],
    n: int | None = None,
    split: str = "test",
    cache_dir: str | Path | None = None,
    *,
    progress: bool = False,
) -> list[Path]:
    """Instance files named by ``specs``, in order, without duplicates.

    A spec is an instance file, a directory (its MPS/LP files, sorted, not recursive), a manifest
    (``*.json``), or a registry name such as ``setcover/small``: the first ``n`` (default 20)
    instances of ``split``, generated on demand into ``cache_dir/<name>/<split>`` (``cache_dir``
    defaults to ``./data/instances``) and reused when already there. ``n`` applies to registry
    names only. Raises OrlearnError when a spec matches nothing.
    """
    from orlearn.milp.registry import _REGISTRY, list_distributions

    found: list[Path] = []
    for spec in specs:
        p = Path(spec)
        if p.is_file():
            if p.suffix.lower() == ".json":
                entries = read_manifest(p)
                paths = [Path(e["path"]) for e in entries]
                missing = [str(q) for q in paths if not q.is_file()]
                if missing:
                    raise OrlearnError(
                        f"{p}: {len(missing)} listed file(s) missing, e.g. {missing[0]}"
                    )
            else:
                instance_format(p)
                paths = [p]
        elif p.is_dir():
            paths = _instance_files_in(p)
            if not paths:
                raise OrlearnError(f"{p}: no MPS/LP instance files in this directory")
        elif str(spec) in _REGISTRY:
            root = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
            count = DEFAULT_N if n is None else n
            paths = generate(str(spec), split, count, root / str(spec) / split, progress=progress)
        else:
            raise OrlearnError(
                f"{spec}: no such file, directory or distribution "
                f"(distributions: {', '.join(list_distributions())})"
            )
        for q in paths:
            if q not in found:
                found.append(q)
    if not found:
        raise OrlearnError("no instances given")
    return found
