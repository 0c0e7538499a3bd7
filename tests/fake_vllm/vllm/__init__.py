"""A test double of vLLM with the import surface run-smoke uses (LLM, SamplingParams).

FAKE_VLLM_MODE picks what it does, so the watchdog, the phase parser and the failure
classifier are exercised without a GPU: `ok` generates and prints vLLM's real start-up
lines; the other modes raise the errors real vLLM raises (texts as vLLM, torch and
huggingface_hub print them), hang silently, or keep talking without progress.
"""
import os
import sys
import time

MODE = os.environ.get("FAKE_VLLM_MODE", "ok")
__version__ = "0.26.0"


def _log(level, where, text):
    sys.stdout.write(f"{level} 11-26 01:02:03 [{where}] {text}\n")
    sys.stdout.flush()


if MODE == "undefined-symbol":
    raise ImportError("/home/u/venv/lib/python3.10/site-packages/vllm/_C.abi3.so: undefined symbol: "
                      "_ZN3c106detail14torchCheckFailEPKcS2_jRKSs")
if MODE == "missing-module":
    raise ModuleNotFoundError("No module named 'msgspec'", name="msgspec")


class OutOfMemoryError(RuntimeError):
    pass


class SamplingParams:
    def __init__(self, max_tokens=16, temperature=1.0, ignore_eos=False, **kwargs):
        self.max_tokens = max_tokens


class _Completion:
    def __init__(self, ids):
        self.token_ids = ids
        self.text = None


class _Output:
    def __init__(self, ids):
        self.outputs = [_Completion(ids)]


class _Core:
    def shutdown(self):
        pass


class _Engine:
    engine_core = _Core()


class LLM:
    def __init__(self, model, **kwargs):
        _log("INFO", "utils.py:253", f"non-default args: {{'model': '{model}', 'load_format': "
             f"'{kwargs.get('load_format', 'auto')}', 'max_model_len': {kwargs.get('max_model_len')}}}")
        self.kwargs = kwargs
        if MODE == "hang":
            time.sleep(3600)
        if MODE == "noisy-hang":
            while True:
                _log("INFO", "loader.py:1", "still loading")
                time.sleep(0.05)
        if MODE == "download-stall":
            sys.stdout.write("model.safetensors:  42%|████▏     | 1.30G/3.09G [00:41<00:57, 31.2MB/s]\n")
            sys.stdout.flush()
            time.sleep(3600)
        if MODE == "download-error":
            raise OSError("We couldn't connect to 'https://huggingface.co' to load this file, couldn't find it in "
                          "the cached files and it looks like Qwen/Qwen2-1.5B-Instruct is not the path to a "
                          "directory containing a file named config.json.\nCheckout your internet connection or see "
                          "how to run the library in offline mode at "
                          "'https://huggingface.co/docs/transformers/installation#offline-mode'.")
        if MODE == "leaky":  # a library that prints what it should not
            _log("INFO", "hub.py:1", f"using token {os.environ.get('HF_TOKEN')} via {os.environ.get('HTTPS_PROXY')}")
        if MODE == "weird":
            _log("ERROR", "core.py:1", "EngineCore encountered a fatal error.")
            raise RuntimeError("quantum flux capacitor misaligned")
        if MODE == "bf16":
            raise ValueError("Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your "
                             "Tesla T4 GPU has compute capability 7.5. You can use float16 instead by explicitly "
                             "setting the `dtype` flag in CLI, for example: --dtype=half.")
        if MODE == "cuda-init":
            raise RuntimeError("CUDA driver initialization failed, you might not have a CUDA gpu.")
        if MODE == "no-kernel-image":
            raise RuntimeError("CUDA error: no kernel image is available for execution on the device\nCUDA kernel "
                               "errors might be asynchronously reported at some other API call, so the stacktrace "
                               "below might be incorrect.")
        _log("INFO", "gpu_model_runner.py:2653", "Model loading took 2.8843 GiB and 0.533154 seconds")
        if MODE == "oom":
            raise OutOfMemoryError("CUDA out of memory. Tried to allocate 1.16 GiB. GPU 0 has a total capacity of "
                                   "3.68 GiB of which 512.00 MiB is free. Including non-PyTorch memory, this process "
                                   "has 3.17 GiB memory in use.")
        _log("INFO", "gpu_worker.py:298", "Available KV cache memory: 35.35 GiB")
        if MODE == "kv-too-small":
            raise ValueError("To serve at least one request with the models's max seq len (32768), (0.88 GiB KV "
                             "cache is needed, which is larger than the available KV cache memory (0.45 GiB). "
                             "Based on the available memory, the estimated maximum model length is 16384. Try "
                             "increasing `gpu_memory_utilization` or decreasing `max_model_len` when "
                             "initializing the engine.")
        _log("INFO", "kv_cache_utils.py:1087", "GPU KV cache size: 1,323,760 tokens")
        _log("INFO", "kv_cache_utils.py:1091", "Maximum concurrency for 2,048 tokens per request: 646.37x")
        self.llm_engine = _Engine()

    def generate(self, prompts, params, use_tqdm=True):
        time.sleep(0.005 * params.max_tokens)  # decoding takes time
        ids = [1000 + i for i in range(params.max_tokens)]
        return [_Output(ids) for _ in prompts]
