"""`envdoctor matrices show`: the shipped tables as aligned text or JSON, sources included."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from envdoctor.compat.tables import Matrices


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return " ".join(_s(v) for v in value)
    return str(value)


def sections(m: Matrices, name: str) -> Dict[str, List[Dict[str, Any]]]:
    """Rows as plain dicts, by section; `source` last in each."""
    if name == "vllm":
        return {"vLLM releases": [
            {"version": str(r.version), "date": r.release_date, "torch": str(r.torch),
             "python": str(r.python_requires), "cuda": r.cuda, "min_cc": r.min_cc, "cuda_archs": list(r.cuda_archs),
             "companions": " | ".join(str(c) for c in r.companions), "platforms": list(r.platforms),
             "source": r.source} for r in sorted(m.table("vllm"), key=lambda r: r.version)],
            "vLLM CUDA-variant wheels (GitHub releases)": [
            {"vllm": str(r.vllm), "variant": r.variant, "cuda": r.cuda, "torch_build": r.torch_build,
             "python_tag": r.python_tag, "platforms": list(r.platforms), "source": r.source}
            for r in m.table("vllm_variants")],
            "known issues and extra pins": [
            {"vllm": str(r.vllm), "kind": r.kind, "pins": [str(p) for p in r.pins], "offer": r.offer, "text": r.text,
             "source": r.source} for r in m.table("vllm_known")]}
    if name == "torch":
        return {"torch releases": [
            {"version": str(r.version), "date": r.release_date, "python": str(r.python_requires),
             "cpython": list(r.python_tags), "default_cuda": r.default_cuda, "cuda_builds": list(r.cuda_builds),
             "index_urls": [r.index_url(b) for b in r.cuda_builds], "source": r.source}
            for r in sorted(m.table("torch"), key=lambda r: r.version)],
            "arch lists per build": [
            {"torch": str(r.torch), "cuda": r.cuda, "arch_list": list(r.arch_list), "source": r.source}
            for r in m.table("torch_archs")]}
    if name == "cuda":
        return {"CUDA toolkit -> minimum driver": [
            {"cuda": r.cuda, "release": r.release, "linux": r.min_driver_linux, "windows": r.min_driver_windows,
             "source": r.source} for r in m.table("cuda_driver")],
            "minor-version compatibility floors": [
            {"cuda_major": r.cuda_major, "linux": r.min_driver_linux, "windows": r.min_driver_windows,
             "source": r.source}
            for r in m.table("cuda_compat")],
            "driver branch -> newest CUDA": [
            {"branch": r.branch, "max_cuda": r.max_cuda, "source": r.source} for r in m.table("driver_branches")],
            "first CUDA that compiles an architecture": [
            {"cc": r.cc, "first_cuda": r.first_cuda, "source": r.source} for r in m.table("cuda_archs")],
            "glibc per distribution": [
            {"distro": r.distro, "version": r.version, "glibc": r.glibc, "source": r.source}
            for r in m.table("distro_glibc")]}
    if name == "gpu":
        return {"GPUs": [
            {"name": g.name, "nvml_pattern": g.nvml_pattern.pattern, "cc": g.compute_capability,
             "architecture": g.architecture,
             "vram_gb": " ".join(f"{v:g}" for v in sorted(g.vram_options())) or "?",  # unknown is "?"
             "segment": g.segment, "source": g.source}
            for g in m.table("gpus")]}
    if name == "model":
        return {"models": [
            {"id": r.id, "type": r.model_type, "parameters": r.parameters, "layers": r.layers,
             "hidden": r.hidden_size, "heads": r.heads, "kv_heads": r.kv_heads, "head_dim": r.head_dim,
             "vocab": r.vocab, "max_positions": r.max_positions, "dtype": r.dtype, "tied": r.tie_embeddings,
             "kv_bytes_per_token": 2 * r.layers * r.kv_heads * r.head_dim * 2, "checked": r.checked,
             "source": r.source} for r in m.table("models")],
            "quantized variants": [
            {"id": v.id, "base": v.base, "method": v.method, "bits": v.bits, "group_size": v.group_size,
             "weights_bytes": v.weights_bytes, "min_cc": v.min_cc, "checked": v.checked, "source": v.source}
            for v in m.table("model_variants")]}
    raise ValueError(name)


def render_text(data: Dict[str, List[Dict[str, Any]]], with_source: bool = False,
                width: Optional[int] = None) -> List[str]:
    """Aligned columns; a long cell is cut at `width` (default: half the terminal, at least 40)."""
    import shutil

    width = width or max(40, shutil.get_terminal_size((80, 24)).columns // 2)
    out: List[str] = []
    for title, rows in data.items():
        if out:
            out.append("")
        out.append(f"{title} ({len(rows)} rows)")
        if not rows:
            continue
        columns = [c for c in rows[0] if c != "source" and c != "index_urls"] + (["source"] if with_source else [])
        cells = [[_s(r.get(c)) for c in columns] for r in rows]
        widths = [min(max(len(c), *(len(row[i]) for row in cells)), width if c != "source" else 10 ** 6)
                  for i, c in enumerate(columns)]
        out.append(_line(columns, widths))
        out.append(_line(["-" * w for w in widths], widths))
        out.extend(_line(row, widths) for row in cells)
    if not with_source:
        out.append("")
        out.append("Every row carries its source: add --source, or --json.")
    return out


def _line(values: Sequence[str], widths: Sequence[int]) -> str:
    parts = []
    for value, w in zip(values, widths):
        parts.append(value if len(value) <= w else value[:w - 1] + "…")
    return "  ".join(p.ljust(w) for p, w in zip(parts, widths)).rstrip()
