"""Every rule, in the order findings are listed within a severity."""
from __future__ import annotations

from . import driver, model, packages, platform, probes, resources, toolkit, torch, wsl

ALL_RULES = (
    platform.native_windows,
    platform.wsl1,
    wsl.libcuda_missing,
    wsl.libcuda_not_on_path,
    wsl.linux_driver,
    driver.no_gpu,
    driver.unreadable,
    driver.driver_too_old,
    torch.cpu_build,
    torch.arch_missing,
    torch.cuda_init_failed,
    torch.vllm_torch,
    packages.missing_requirements,
    packages.python_unsupported,
    driver.cc_too_low,
    driver.bf16,
    toolkit.not_needed,
    toolkit.mismatch,
    platform.system_python,
    driver.memory_in_use,
    resources.low_disk,
    resources.low_ram,
    model.does_not_fit,
    model.kv_too_small,
    model.fits_with_settings,
    model.not_found,
    probes.probe_failed,
)

