"""The machine and the installed stack as compat.judge sees them, read from check's Facts: what
`check` judges with the same verdict `fix` gives its candidates."""
from __future__ import annotations

from typing import Optional

from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.compat.builds import Build, builds, cuda_of_tag
from envdoctor.compat.judge import GpuSeen, Machine


def machine_of(facts: Facts, m: Matrices) -> Machine:
    from envdoctor.rules.base import gpu_cc, target_os
    from envdoctor.compat.gpu import identify
    from envdoctor.compat.known import glibc_of

    platform, driver, env, runtime = facts.platform, facts.driver, facts.python, facts.torch
    arch = {"AMD64": "x86_64", "arm64": "aarch64"}.get(platform.machine, platform.machine) if platform else "x86_64"
    gpus = None
    jetson = False
    if driver is not None:
        gpus = tuple(GpuSeen(g.name, gpu_cc(g, m)) for g in driver.gpus)
        jetson = arch == "aarch64" and any(getattr(identify(g.name, m), "jetson", False) for g in driver.gpus)
    elif facts.status("driver") == "absent":
        gpus = ()
    observed = ()
    if env is not None and env.torch is not None and env.torch.cuda and runtime is not None and runtime.arch_list:
        observed = ((env.torch.version.split("+")[0], env.torch.cuda, tuple(runtime.arch_list)),)
    glibc = glibc_of(platform.distro_id, platform.distro_version, m) if platform is not None else None
    return Machine(target_os(facts), arch, driver.driver_version if driver else None,
                   driver.cuda_max if driver else None, gpus, glibc, jetson, observed)


def installed_build(facts: Facts, m: Matrices) -> Optional[Build]:
    """The build of vLLM + torch installed in the target environment, when vLLM is a known release
    (with no CUDA torch installed: the release's index build, the torch pip would bring)."""
    env = facts.python
    vllm = env.dist("vllm") if env is not None else None
    if env is None or vllm is None:
        return None
    public, _, local = vllm.version.partition("+")
    row = m.vllm(public)
    if row is None:
        return None
    if env.torch is None or not env.torch.cuda:
        options = builds(row, m)
        return options[0] if options else None
    for b in builds(row, m):
        variant_ok = (b.variant or "") == (local if local.startswith("cu") else "")
        if variant_ok and b.torch_cuda == env.torch.cuda:
            torch_public = env.torch.version.split("+")[0]
            if str(b.torch.version) == torch_public:
                return b
    torch = m.torch(env.torch.version)
    if torch is None:
        return None
    base = builds(row, m)
    vllm_cuda = cuda_of_tag(local) if local.startswith("cu") else (base[0].vllm_cuda if base else row.cuda)
    return Build(row, torch, env.torch.cuda, vllm_cuda, local if local.startswith("cu") else None,
                 platforms=row.platforms, default_torch=torch.default_cuda == env.torch.cuda)
