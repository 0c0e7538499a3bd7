"""GPU identity from the name NVML (nvidia-smi) prints, or from the words a person types.

A name is matched in full against every row of gpus.csv; an unknown name stays unknown (no
substring guess: "RTX A1000 Laptop GPU" is not an A100, "H20" is not an "H200"). A memory size the
name states ("Tesla V100-SXM2-32GB") wins over the sizes the card is sold with."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple

from envdoctor.compat.tables import GpuSpec, Matrices

_PREFIX = re.compile(r"(?:NVIDIA\s+)+", re.IGNORECASE)  # newer drivers prefix names drivers before R495 did not
_MIG = re.compile(r"\s+MIG\s+(\d+g\.(\d+)gb)$", re.IGNORECASE)  # "NVIDIA H100 NVL MIG 3g.47gb": an instance
_SIZE = re.compile(r"^(\d+)\s?GB?$", re.IGNORECASE)
# Words that name no product: "NVIDIA GeForce RTX 3050 Laptop GPU" and "3050 laptop" are the same card.
_FILLER = frozenset({"nvidia", "geforce", "tesla", "rtx", "gtx", "gpu", "graphics", "card"})
_PREFIXES = ("", "GeForce ", "Tesla ", "RTX ")  # what people leave out of an NVML name


@dataclass(frozen=True)
class GpuIdentity:
    name: str                      # the row's canonical name
    compute_capability: str        # "8.6"
    architecture: str
    segment: str                   # laptop | desktop | workstation | datacenter | embedded
    vram_mib: Optional[int]        # the card's memory when the name or the row fixes it, else None
    vram_options_gb: Tuple[float, ...]  # the sizes the card is sold with (one when the name says which)
    cpu_arch: Optional[str]        # the host CPU it always comes with ("aarch64" for Grace), else None
    jetson: bool                   # driver comes with JetPack; needs Jetson builds
    source: str
    vram_mib_seen: bool = False    # vram_mib is what nvidia-smi reported for such a card, not GB x 1024
    mig_profile: Optional[str] = None  # "3g.47gb" when the name is a MIG instance; vram is the slice's


@dataclass(frozen=True)
class _Hit:
    row: GpuSpec
    size_gb: Optional[float]  # the size the name or the words state
    mig: Optional[str] = None


def _normal(text: str) -> str:
    return " ".join((text or "").split())


def _bare(text: str) -> str:
    return _PREFIX.sub("", text, count=1) if _PREFIX.match(text) else text


def _match(nvml_name: str, rows: Sequence[GpuSpec]) -> Optional[_Hit]:
    text, mig, mig_gb = _normal(nvml_name), None, None
    m = _MIG.search(text)
    if m:
        text, mig, mig_gb = text[:m.start()], m.group(1).lower(), float(m.group(2))
    bare = _bare(text)
    hits = [(row, found) for row in rows for found in [row.nvml_pattern.fullmatch(bare)] if found]
    if len(hits) != 1:  # none: unknown; several would be a data error (tests forbid it): no guess either way
        return None
    row, found = hits[0]
    gb = found.groupdict().get("gb")
    return _Hit(row, mig_gb if mig else (float(gb) if gb else None), mig)


def _identity(hit: _Hit) -> GpuIdentity:
    row = hit.row
    options = (hit.size_gb,) if hit.size_gb else row.vram_options()
    mib, seen = None, False
    if len(options) == 1:  # a MIG slice's size is its own, never the whole card's seen MiB
        mib, seen = (int(options[0] * 1024), False) if hit.mig else row.mib_for(options[0])
    return GpuIdentity(row.name, row.compute_capability, row.architecture, row.segment, mib, options,
                       row.cpu_arch, row.segment == "embedded", row.source, seen, hit.mig)


def _narrowed(hit: _Hit) -> GpuSpec:
    return replace(hit.row, vram_gb=f"{hit.size_gb:g}") if hit.size_gb else hit.row


def _tokens(text: str, sizes_are_words: bool = False) -> Tuple[frozenset, Optional[float]]:
    """The product words of a name (less filler), and a size it states. In a row's name a size is
    a word ("GH200 480GB" counts CPU memory too); in a person's words it asks for that size."""
    words, size = set(), None
    for word in re.split(r"[\s,/()]+", text.lower()):
        m = _SIZE.match(word)
        if m and not sizes_are_words:
            size = float(m.group(1))
        elif word and word not in _FILLER:
            words.add(word)
    return frozenset(words), size


def _named(query: str, rows: Sequence[GpuSpec]) -> List[_Hit]:
    text = _normal(query)
    if not text:
        return []
    words, size = _tokens(text)
    # 1. The words are an NVML name, perhaps without its GeForce / Tesla / RTX or a final "GPU".
    found: Dict[str, _Hit] = {}
    for prefix in _PREFIXES:
        for suffix in ("", " GPU"):
            hit = _match(prefix + text + suffix, rows)
            if hit:
                found.setdefault(hit.row.name, hit)
    if found:
        return list(found.values())
    # 2. The words are a row's product words: exactly ("A6000", "3050 laptop"), else contained in
    # several rows ("RTX 6000", "GH200"): the caller asks which. Only whole words count.
    if not words:
        return []
    exact, partial = [], []
    for row in rows:
        row_words, _ = _tokens(row.name, sizes_are_words=True)
        if words == row_words:
            exact.append(row)
        elif words <= row_words:
            partial.append(row)
    chosen = exact or partial
    if size:  # a stated size keeps the rows sold with it, or whose sizes are not known
        chosen = [r for r in chosen if not r.vram_options() or size in r.vram_options()]
    return [_Hit(r, size) for r in chosen]


def close_names(query: str, matrices: Matrices, n: int = 3) -> List[str]:
    """Known GPU names that words naming none look like ("rtx4090": GeForce RTX 4090): for a "did
    you mean" line, never to be used in their place."""
    import difflib

    def squash(words) -> str:
        return re.sub(r"[^a-z0-9]", "", "".join(words))

    keys: Dict[str, str] = {}
    for name in sorted({r.name for r in matrices.table("gpus")}):
        words = name.lower().split()
        for kept in (words, [w for w in words if w not in ("nvidia", "geforce", "tesla")],
                     [w for w in words if w not in _FILLER]):
            keys.setdefault(squash(kept), name)
    hits = difflib.get_close_matches(squash(query.lower().split()), list(keys), n=n * 3, cutoff=0.8)
    return list(dict.fromkeys(keys[h] for h in hits))[:n]


def identify(nvml_name: str, matrices: Matrices) -> Optional[GpuIdentity]:
    """The GPU an NVML name denotes, or None when the name is not known (never a guess)."""
    hit = _match(nvml_name, matrices.table("gpus"))
    return _identity(hit) if hit else None


def named(query: str, matrices: Matrices) -> List[GpuIdentity]:
    """The GPUs a person's words name ("RTX 3050 Laptop", "3050 laptop", "T4"); several when ambiguous."""
    return [_identity(h) for h in _named(query, matrices.table("gpus"))]


def spec(nvml_name: str, matrices: Matrices) -> Optional[GpuSpec]:
    """identify() as the gpus.csv row, its vram_gb narrowed to a size the name states."""
    hit = _match(nvml_name, matrices.table("gpus"))
    return _narrowed(hit) if hit else None


def specs_named(query: str, matrices: Matrices) -> List[GpuSpec]:
    """named() as gpus.csv rows, each narrowed to a size the words state."""
    return [_narrowed(h) for h in _named(query, matrices.table("gpus"))]
