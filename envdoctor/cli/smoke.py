"""`envdoctor run-smoke`: a real vLLM generation in the target environment, each phase timed and
shown as it happens (render/smoke_text), or one JSON document."""
from __future__ import annotations

from typing import Optional

import click

from envdoctor.cli import summary
from envdoctor.cli.options import Number, console, context, json_option, python_option
from envdoctor.core.exitcodes import EXIT_ERROR
from envdoctor.redact import Redactor
from envdoctor.render import smoke_text
from envdoctor.render.json_doc import dumps
from envdoctor.render.progress import StatusLine, wanted
from envdoctor.smoke.run import SmokeOptions, run_smoke as smoke


@click.command("run-smoke", short_help=summary("run-smoke"))
@python_option("The interpreter whose vLLM to run: a path, a name on PATH or a venv folder.")
@click.option("--model", default="Qwen/Qwen2-1.5B-Instruct", show_default=True, metavar="ID_OR_DIR",
              help="A Hugging Face id or a local folder.")
@click.option("--dummy", is_flag=True, help="Random weights from the model's config: nothing is downloaded.")
@click.option("--prompt", default="The capital of France is", show_default=True)
@click.option("--max-tokens", type=click.IntRange(1, 4096), default=32, show_default=True)
@click.option("--timeout", type=Number(10, 7200), default=900.0, show_default=True,
              help="Seconds for the whole run.")
@click.option("--stall", type=Number(5, 3600), default=180.0, show_default=True,
              help="Seconds with no output and no GPU-memory change that count as a stall.")
@click.option("--gpu-memory-utilization", type=Number(0.01, 1.0), default=None,
              help="Fraction of the card's memory vLLM may take (default: sized from its free memory).")
@click.option("--max-model-len", type=click.IntRange(16, 1 << 22), default=None,
              help="Context length (default: a short one for one request, at most the model's).")
@click.option("--enforce-eager/--no-enforce-eager", default=None,
              help="No CUDA graphs (default: on under 8 GiB, under WSL 2, or when memory is tight).")
@click.option("--dtype", type=click.Choice(["auto", "half", "bfloat16", "float16", "float32"]), default=None,
              help="Weights' dtype (default: half on cards without bfloat16 for a bfloat16 model, else the model's).")
@click.option("--attention-backend", default=None, metavar="NAME", help="e.g. TRITON_ATTN, FLASH_ATTN.")
@click.option("--force", is_flag=True, help="Run even when the model looks too big for the card.")
@click.option("--log-dir", type=click.Path(file_okay=False), default=None, help="Where the run's log goes.")
@json_option("Print one JSON document.")
def run_smoke(python: Optional[str], model: str, dummy: bool, prompt: str, max_tokens: int, timeout: float,
              stall: float, gpu_memory_utilization: Optional[float], max_model_len: Optional[int],
              enforce_eager: Optional[bool], dtype: Optional[str], attention_backend: Optional[str], force: bool,
              log_dir: Optional[str], as_json: bool) -> int:
    """Run a real vLLM generation in the target environment and time each phase.

    Exit code: 0 the generation ran, 2 it failed or could not start (a finding says why), 4 usage."""
    ctx = context({}, python)
    redactor = Redactor(ctx.env)
    overrides = {"gpu_memory_utilization": gpu_memory_utilization, "max_model_len": max_model_len,
                 "enforce_eager": enforce_eager, "dtype": dtype}
    opts = SmokeOptions(model=model, dummy=dummy, prompt=prompt, max_tokens=max_tokens, timeout=timeout,
                        stall=stall, overrides={k: v for k, v in overrides.items() if v is not None},
                        attention_backend=attention_backend, force=force, log_dir=log_dir)
    ticker = smoke_text.PhaseTicker(StatusLine()) if wanted(as_json) else None
    try:
        result = smoke(ctx, opts, on_event=None if as_json else smoke_text.live_printer(console(stderr=True),
                                                                                         redactor, ticker))
    finally:
        if ticker is not None:
            ticker.stop()
    code = 0 if result.ok else EXIT_ERROR
    if as_json:
        click.echo(dumps(smoke_text.document(result, code, redactor)))
    else:
        smoke_text.render(result, code, redactor, console())
    return code
