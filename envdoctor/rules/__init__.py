"""Rules: pure functions of Facts + Matrices, each with a stable code. ALL_RULES is the
order findings are listed in, within a severity."""
from __future__ import annotations

from . import driver, network, packages, platform, probes, resources, toolkit, torch, wsl

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
    network.pip_config_invalid,
    network.proxy_invalid,
    network.ca_bundle_invalid,
    network.proxy_unreachable,
    network.proxy_auth_required,
    network.dns_failure,
    network.tcp_blocked,
    network.tls_intercepted,
    network.http_forbidden,
    network.index_unreachable,
    network.download_stalled,
    network.download_slow,
    network.dns_slow,
    network.hf_endpoint_unreachable,
    network.proxy_env_mismatch,
    probes.probe_failed,
)

