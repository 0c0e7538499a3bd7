"""CUDA toolkit rules. Wheels of torch and vLLM carry their own CUDA runtime and need
only the driver; a toolkit (nvcc) matters only when building from source."""
from __future__ import annotations

from typing import Optional

from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.messages import Msg
from envdoctor.rules.base import Advice, cuda_tuple, driver_max_cuda, rule, target_os


def _toolkit_versions(tk) -> list:
    """The installed toolkits as major.minor, oldest first, each once."""
    found = {cuda_tuple(v) for v in [tk.nvcc_version] + [t.version for t in tk.toolkits]}
    return [f"{major}.{minor}" for major, minor in sorted(v for v in found if v)]


@rule("cuda-toolkit-not-needed", "cuda", "A CUDA toolkit is installed that vLLM's wheels do not use (info)")
def not_needed(facts: Facts, m: Matrices) -> Optional[Advice]:
    tk, env = facts.cuda, facts.python
    if tk is None:
        return None
    versions = _toolkit_versions(tk)
    torch_cuda = env.torch.cuda if env is not None and env.torch is not None else None
    if not versions or (torch_cuda and cuda_tuple(tk.nvcc_version) == cuda_tuple(torch_cuda)
                        and len(versions) == 1):
        return None  # one toolkit that matches torch: coherent, nothing to say
    evidence = [Msg("cuda-toolkit-not-needed.evidence.toolkits" + (".nvcc" if tk.nvcc_version else ""),
                    versions=", ".join(versions), nvcc=tk.nvcc_version)]
    if torch_cuda:
        evidence.append(Msg("cuda-toolkit-not-needed.evidence.torch", cuda=torch_cuda))
    driver = facts.driver
    limit = driver_max_cuda(driver, m, target_os(facts)) if driver is not None else None
    if driver is not None:
        evidence.append(Msg("cuda-toolkit-not-needed.evidence.driver", cuda=limit or "?"))
    return Advice(
        "info",
        Msg("cuda-toolkit-not-needed.title"),
        evidence=tuple(evidence),
        why=Msg(
            "cuda-toolkit-not-needed.why", limit=Msg("cuda-toolkit-not-needed.limit", limit=limit) if limit else ""
        ),
        notes=(Msg("cuda-toolkit-not-needed.note"),),
    )


@rule("cuda-toolkit-mismatch-for-build", "cuda",
      "nvcc's CUDA major version differs from torch's (matters for source builds)")
def mismatch(facts: Facts, _m: Matrices) -> Optional[Advice]:
    tk, env = facts.cuda, facts.python
    if tk is None or env is None or env.torch is None or not env.torch.cuda or not tk.nvcc_version:
        return None
    have, want = cuda_tuple(tk.nvcc_version), cuda_tuple(env.torch.cuda)
    if have is None or want is None or have[0] == want[0]:
        return None
    match = [t for t in tk.toolkits if (v := cuda_tuple(t.version)) and v[0] == want[0]]
    fix = ((f"export CUDA_HOME={match[-1].path}", f"export PATH={match[-1].path}/bin:$PATH") if match else ())
    return Advice(
        "warn", Msg("cuda-toolkit-mismatch-for-build.title", nvcc=tk.nvcc_version, torch=env.torch.cuda),
        evidence=(f"nvcc: {tk.nvcc_path} (CUDA {tk.nvcc_version})", f"torch {env.torch.version}: CUDA {env.torch.cuda}")
                 + ((f"CUDA_HOME={tk.cuda_home}",) if tk.cuda_home else ()),
        why=Msg("cuda-toolkit-mismatch-for-build.why"),
        fix=fix,
        notes=(() if match else (Msg("cuda-toolkit-mismatch-for-build.note", major=want[0]),)),
    )
