"""`envdoctor fit MODEL`: the model's shape (local, cached, catalog or hub) and a GPU (named, or GPU 0
here through the driver probe) → fit.sizing's plan → render/fit_text."""
from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import List, Optional, Tuple

import click

from envdoctor.cli import summary
from envdoctor.cli.options import Number, context
from envdoctor.compat.tables import Matrices
from envdoctor.core.errors import UsageError
from envdoctor.core.results import Facts
from envdoctor.fit.model_config import absolute, find_model
from envdoctor.fit.calc import Gpu
from envdoctor.fit.sizing import gpu_from_catalog, gpu_from_fact, plan_for
from envdoctor.machine.fs import RootedFS
from envdoctor.probes import nvidia
from envdoctor.redact import Redactor
from envdoctor.render import fit_text


@click.command(short_help=summary("fit"))
@click.argument("model", metavar="ID_OR_DIR")
@click.option("--gpu", "gpu_name", metavar="NAME",
              help='A GPU from `envdoctor matrices show gpu`, e.g. "RTX 3050 Laptop" (default: GPU 0 here).')
@click.option("--vram", type=Number(0.25, 4096), metavar="GB", help="The card's memory in GB.")
@click.option("--free", "free", type=Number(0, 4096), metavar="GB",
              help="Free GPU memory in GB, when it is not measured here.")
@click.option("--max-model-len", "context_len", type=click.IntRange(128, 100_000_000), metavar="TOKENS",
              help="The context you need (default: the model's maximum).")
@click.option("--vllm", "vllm_version", metavar="VERSION", help="Size for this vLLM release (default: a current one).")
@click.option("--tensor-parallel-size", "-tp", "tensor_parallel_size", type=click.IntRange(1, 64), default=1,
              metavar="N", help="Split the model over N GPUs like this one (figures are per GPU).")
@click.option("-v", "--verbose", is_flag=True, help="Show the arithmetic.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def fit(model: str, gpu_name: Optional[str], vram: Optional[float], free: Optional[float], context_len: Optional[int],
        vllm_version: Optional[str], tensor_parallel_size: int, verbose: bool, as_json: bool) -> int:
    """Does a model fit on this GPU (or a named one) under vLLM, and with which settings?

    A Hugging Face id beyond envdoctor's catalog is read from the hub (HF_ENDPOINT, HF_TOKEN, the
    local cache; HF_HUB_OFFLINE=1 for the cache only).

    Exit code: 0 fits with vLLM's defaults, 1 fits with the settings shown (or something could not be
    checked), 2 does not fit or vLLM does not run on the GPU."""
    if free is not None and vram is not None and free > vram:
        raise click.BadParameter(f"{free:g} GB free of a {vram:g} GB card: free memory cannot exceed the card's",
                                 param_hint="--free")
    matrices = Matrices()
    redactor = Redactor(os.environ)
    shape = find_model(RootedFS("/"), os.environ, matrices, absolute(model), hub=True)
    if gpu_name or vram:
        gpu, notes = gpu_from_catalog(matrices, gpu_name, vram, free)
    else:
        gpu, notes = _this_gpu(matrices, free)
    p = plan_for(shape, gpu, matrices, context=context_len, vllm=vllm_version, notes=notes,
                 tensor_parallel_size=tensor_parallel_size)
    if as_json:
        click.echo(json.dumps(redactor.data(fit_text.document(p)), indent=2))
    else:
        for line in fit_text.render(p, verbose=verbose):
            click.echo(redactor.text(line))
    return fit_text.exit_code(p)


def _this_gpu(matrices: Matrices, free: Optional[float]) -> Tuple[Gpu, List[str]]:
    """GPU 0 of this machine, measured through the driver probe (NVML, else nvidia-smi)."""
    try:
        driver = nvidia.probe(context({}), Facts())
    except Exception as exc:  # noqa: BLE001 - absent, failed or timed out: all mean "say which GPU"
        raise UsageError(f"no NVIDIA GPU could be read here ({exc or type(exc).__name__}): pass "
                         "--gpu NAME or --vram GB") from None
    if not driver.gpus:
        raise UsageError("the NVIDIA driver reports no GPU: pass --gpu NAME or --vram GB")
    gpu = gpu_from_fact(driver.gpus[0], matrices)
    if gpu.total_bytes <= 0:
        raise UsageError(f"the driver did not report the memory of {gpu.name}: pass --vram GB")
    notes = [f"sized for GPU 0 of {len(driver.gpus)}"] if len(driver.gpus) > 1 else []
    if free is not None:
        gpu = replace(gpu, free_bytes=int(free * 1024) * 1024 * 1024)
    return gpu, notes
