"""Parsers of real tool output: nvidia-smi, nvcc, ldconfig, dpkg, os-release, meminfo,
torch/version.py. Garbage must raise or give None, never a wrong value."""
from __future__ import annotations

import os

import pytest

from envdoctor.core.facts import Distribution
from envdoctor.probes.cuda_toolkit import parse_nvcc_version
from envdoctor.probes.nvidia import QUERY_FIELDS, parse_banner_cuda, parse_query_csv
from envdoctor.probes.platform import parse_os_release, wsl_version
from envdoctor.probes.python_env import parse_torch_version_py, torch_build
from envdoctor.probes.resources import parse_meminfo
from envdoctor.probes.wsl import installed_driver_packages, parse_ldconfig

DATA = os.path.join(os.path.dirname(__file__), "data", "nvidia-smi")


def test_nvidia_smi_query_recorded_on_the_h100():
    text = open(os.path.join(DATA, "h100-query.csv")).read()
    driver, gpus = parse_query_csv(text, QUERY_FIELDS)
    assert driver == "580.159.04"
    g = gpus[0]
    assert (g.name, g.compute_capability, g.memory_total_mib, g.memory_free_mib) == \
           ("NVIDIA H100 80GB HBM3", "9.0", 81559, 81079)


def test_nvidia_smi_banner_recorded_on_the_h100():
    assert parse_banner_cuda(open(os.path.join(DATA, "h100-banner.txt")).read()) == "13.0"


def test_nvidia_smi_without_compute_cap_field():
    fields = tuple(f for f in QUERY_FIELDS if f != "compute_cap")
    driver, gpus = parse_query_csv("0, NVIDIA GeForce GTX 1080 Ti, 11264, 310, 10954, 470.256.02\n", fields)
    assert driver == "470.256.02" and gpus[0].compute_capability is None and gpus[0].memory_used_mib == 310


def test_nvidia_smi_not_supported_cells_become_none():
    _, gpus = parse_query_csv("0, NVIDIA GeForce RTX 3050 Laptop GPU, 8.6, 4096, [N/A], [N/A], 531.41\n", QUERY_FIELDS)
    assert gpus[0].memory_used_mib is None and gpus[0].memory_total_mib == 4096


@pytest.mark.parametrize("garbage", ["", "Segmentation fault\n", "0, x, 8.6\n", "<html>proxy login</html>\n",
                                     "a, b, c, d, e, f, g\n"])
def test_nvidia_smi_garbage_raises(garbage):
    with pytest.raises(ValueError):
        parse_query_csv(garbage, QUERY_FIELDS)


def test_nvcc_version():
    text = "Cuda compilation tools, release 12.6, V12.6.77\nBuild cuda_12.6.r12.6/compiler.34714021_0\n"
    assert parse_nvcc_version(text) == "12.6"
    assert parse_nvcc_version("nvcc: command not found") is None


def test_ldconfig_first_entry_is_what_the_loader_uses():
    text = ("\tlibcuda.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcuda.so.1\n"
            "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/wsl/lib/libcuda.so.1\n")
    assert parse_ldconfig(text) == "/lib/x86_64-linux-gnu/libcuda.so.1"
    assert parse_ldconfig("\tlibcudart.so.12 (libc6,x86-64) => /x/libcudart.so.12\n") is None


def test_dpkg_status_lists_only_installed_driver_packages():
    status = ("Package: nvidia-driver-550\nStatus: install ok installed\n\n"
              "Package: libnvidia-compute-535\nStatus: deinstall ok config-files\n\n"
              "Package: cuda-toolkit-12-6\nStatus: install ok installed\n\n"
              "Package: cuda-drivers\nStatus: install ok installed\n")
    assert installed_driver_packages(status) == ("cuda-drivers", "nvidia-driver-550")


@pytest.mark.parametrize("osrelease, version, interop, expected", [
    ("5.15.153.1-microsoft-standard-WSL2", "", False, 2),
    ("4.4.0-19041-Microsoft", "Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com)", False, 1),
    ("6.6.36.3-microsoft-standard-WSL2+", "", True, 2),
    ("6.8.0-51-generic", "Linux version 6.8.0-51-generic (buildd@lcy02)", False, None),
])
def test_wsl_version(osrelease, version, interop, expected):
    assert wsl_version(osrelease, version, interop) == expected


def test_os_release_quotes():
    values = parse_os_release('NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\n# comment\ngarbage line\n')
    assert values == {"NAME": "Ubuntu", "VERSION_ID": "22.04", "ID": "ubuntu"}


def test_meminfo():
    values = parse_meminfo("MemTotal:       16318512 kB\nMemAvailable:   14900000 kB\nHugePages_Total: 0\n")
    assert values == {"MemTotal": 16318512 * 1024, "MemAvailable": 14900000 * 1024}


def test_torch_version_py_variants():
    new = "__version__ = '2.3.1+cu121'\ndebug = False\ncuda: Optional[str] = '12.1'\nhip: Optional[str] = None\n"
    old = "__version__ = '1.13.1+cu117'\ndebug = False\ncuda = '11.7'\nhip = None\n"
    cpu = "__version__ = '2.13.0+cpu'\ncuda: Optional[str] = None\nhip: Optional[str] = None\n"
    assert parse_torch_version_py(new) == ("2.3.1+cu121", "12.1", None)
    assert parse_torch_version_py(old) == ("1.13.1+cu117", "11.7", None)
    assert parse_torch_version_py(cpu) == ("2.13.0+cpu", None, None)


def test_torch_build_falls_back_to_the_local_label_without_version_py():
    dists = (Distribution("torch", "2.4.1+cu118"),)
    assert torch_build(dists, None).cuda == "11.8"
    assert torch_build((Distribution("torch", "2.4.1+cpu"),), None).cuda is None
    assert torch_build((Distribution("numpy", "2.0"),), None) is None
