"""`fix --plan --format json`: the resolution and the plan as one versioned document."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from envdoctor.fix.plan import Plan
from envdoctor.fix.resolve import Resolution, Stack
from envdoctor.redact import Redactor
from envdoctor.render.json_doc import envelope, plain


def _stack(s: Stack) -> Dict[str, Any]:
    return {
        "vllm": s.vllm.version, "vllm_cuda": s.vllm_cuda, "torch": s.torch.version, "cuda": s.cuda,
        "cuda_tag": s.cuda_tag, "torch_index_url": s.torch_index, "python": s.python, "pythons": list(s.pythons),
        "python_limits": list(s.python_limits), "companions": [c.pin for c in s.companions],
        "min_compute_capability": s.min_cc, "driver": plain(s.driver), "cuda_toolkit_needed": False,
        "variant": s.variant, "vllm_wheel_url": s.vllm.url, "extra_pins": list(s.extra_pins), "glibc_floor": s.glibc,
        "download_bytes": s.download_bytes, "notes": list(s.notes),
    }


def _fit(resolution: Resolution) -> Optional[Dict[str, Any]]:
    f = resolution.fit
    if f is None:
        return None
    return {"model": f.model.name, "gpu": f.gpu.name, "verdict": f.verdict,
            "serve": f.chosen.settings.vllm_args(f.model.name) if f.verdict != "does-not-fit" else None,
            "max_model_len": f.chosen.context, "notes": list(f.notes)}


def document(resolution: Resolution, plan: Optional[Plan], redactor: Redactor) -> Dict[str, Any]:
    from envdoctor.messages import asked, localized

    steps: List[Dict[str, Any]] = []
    if plan is not None:
        for s in plan.steps:
            steps.append({
                "id": s.id, "title": s.title, "why": s.why, "commands": [list(c) for c in s.commands],
                "writes": [{"path": w.path, "content": w.content} for w in s.writes],
                "verify": [{"what": c.what, "argv": list(c.argv), "needs_gpu": c.needs_gpu} for c in s.verify],
                "download_bytes": s.download_bytes, "download_note": s.download_note or None,
                "needs_root": s.needs_root, "network": s.network,
            })
            if asked():
                steps[-1]["localized"] = localized(title=s.title, why=s.why, verify=[c.what for c in s.verify])
    doc = envelope({
        "ok": resolution.ok,
        "wanted": resolution.wanted,
        "target": plain(resolution.target),
        "stack": _stack(resolution.stack) if resolution.stack else None,
        "rejected": [dict({"vllm": r.vllm, "reason": r.line, "blockers": [plain(b) for b in r.blockers]},
                          **({"localized": localized(blockers=[b.text for b in r.blockers],
                                                     changes=[b.change for b in r.blockers])} if asked() else {}))
                     for r in resolution.rejected],
        "changes": list(resolution.changes),
        "newest_here": resolution.newest_here,
        "notes": list(resolution.notes),
        "fit": _fit(resolution),
        "env": {"path": plan.env, "tool": plan.env_tool, "python": plan.python_exe} if plan else None,
        "steps": steps,
        "download_bytes": plan.download_bytes if plan else None,
        "next": list(plan.next_steps) if plan else [],
    }, kind="envdoctor-fix-plan")
    if asked():
        doc["localized"] = localized(wanted=resolution.wanted, changes=resolution.changes, notes=resolution.notes,
                                     stack_notes=resolution.stack.notes if resolution.stack else ())
    return redactor.data(doc)


def dumps(doc: Dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)
