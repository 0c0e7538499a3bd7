"""English messages, by id. Placeholders are {name}s filled from a Msg's parameters; a Chinese
entry in zh_CN.py must fill the same ones (tests/test_messages.py)."""

EN = {
    "sep.list": "; ",  # between the clauses of a list parameter
    # --- model fit (check --model; fit's plan notes) -------------------------------------
    "model.evidence.gpu": "GPU 0: {gpu}, {total} total, {free} free",
    "model.evidence.gpu.wsl": "GPU 0: {gpu}, {total} total, {free} free (the Windows desktop shares it under WSL)",
    "model.evidence.free-not-measured": "not measured",
    "model.evidence.model": "{model}: {weights} of weights, {kv_per_token:,} B of KV cache per token, "
                            "context {context:,}",
    "model.evidence.defaults": "with vLLM's defaults: requests {requested}, leaving {kv} for the KV cache "
                               "({tokens:,} tokens)",
    "model.note.prove": "Prove it with a real generation: {command}",
    "model.note.arithmetic": "Run `envdoctor fit MODEL -v` for the arithmetic.",
    "model-not-found.title": "Cannot size {model}: its config.json is not on this machine",
    "model-not-found.why": "envdoctor reads the model's config.json (layers, heads, vocabulary) without the "
                           "network: from a local folder, the Hugging Face cache or its own catalog.",
    "model-not-found.hub-cache": "the Hugging Face cache",
    "model-not-found.note.dir": "{query}: no directory {query}. Pass a local folder that holds its config.json "
                                "(for example: {download}), or a catalog model ({catalog}){close}",
    "model-not-found.note.repo": "{query}: not in the Hugging Face cache ({hub}), not in envdoctor's catalog. "
                                 "Pass a local folder that holds its config.json (for example: {download}), or a "
                                 "catalog model ({catalog}){close}",
    "model-not-found.close": ". Did you mean: {names}?",
    "model-not-found.end": ".",
    "model-no-gpu.title": "Cannot size {model}: no GPU known",
    "model-no-gpu.why": "Whether a model fits depends on the GPU's memory, and no NVIDIA GPU was read on this "
                        "machine: the model's fit is unknown, not fine.",
    "model-no-gpu.note": "Or pass the card's memory (--vram GB), or run envdoctor where the GPU is.",
    "model-does-not-fit.title": "{model} does not fit on {gpu}",
    "model-does-not-fit.why": "vLLM reserves gpu_memory_utilization × total memory at start-up and needs the "
                              "weights, a profile run's activations and at least one full-length request of KV "
                              "cache inside it; here the weights alone leave too little.",
    "model-does-not-fit.note.alternative": "{model} ({method}, {bits}-bit) holds {weights} of weights and fits "
                                           "with the settings above.",
    "model-does-not-fit.note.no-alternative": "No published quantized variant in envdoctor's catalog fits: use a "
                                              "smaller model or a GPU with more memory.",
    "model-does-not-fit.title.blocked": "{model} cannot run on {gpu}: {blocker}",
    "model-does-not-fit.why.blocked": "vLLM's kernels are built for a range of compute capabilities; below it "
                                      "vLLM does not start, whatever the memory.",
    "model-does-not-fit.note.blocked": "A GPU with a newer architecture is needed (or an older vLLM that still "
                                       "supports this one: envdoctor fix --plan).",
    "model-fits-with-settings.title": "{model} fits on {gpu} only with these settings",
    "model-fits-with-settings.why": "With vLLM's defaults it stops at start-up or runs out of KV cache: the "
                                    "defaults assume a card with room to spare.",
    "kv-cache-too-small-for-context.title": "{model} on {gpu}: set max_model_len to {tokens:,}",
    "kv-cache-too-small-for-context.why": "Every token of context needs KV cache (2 × layers × kv_heads × head_dim "
                                          "× 2 bytes); what is left after the weights holds fewer tokens than the "
                                          "model's maximum.",
    "kv-cache-too-small-for-context.note.refuses": "vLLM refuses to start when max_model_len ({default:,} by "
                                                   "default here) needs more KV cache than is left; {tokens:,} "
                                                   "tokens fit.",
    "kv-cache-too-small-for-context.note.alternative": "Or {model} keeps {tokens:,} tokens: {command}",
    "fit.note.no-bf16": "compute capability {cc} has no bfloat16: vLLM needs --dtype half (same memory)",
    "fit.note.v0": "vLLM {vllm} uses the V0 engine (vllm/worker/worker.py, determine_num_available_blocks): its "
                   "profile run pushes max_model_len tokens through the model at once ({used}), not "
                   "max_num_batched_tokens",
    "fit.note.v0.used": "{default:,} tokens with vLLM's defaults",
    "fit.note.v0.used-chosen": "{default:,} tokens with vLLM's defaults, {chosen:,} with the settings shown",
    "fit.note.current-vllm": "sized for a current vLLM (V1 engine, gpu_memory_utilization {util}); pass --vllm "
                             "VERSION for an older one",
    "fit.note.tensor-parallel": "per GPU, on {tp} GPUs like this one: each holds 1/{tp} of the weights and "
                                "{kv_heads} of {all_kv_heads} KV heads",
    "fit.blocker.tp-heads": "{heads} attention heads do not divide by --tensor-parallel-size {tp}: vLLM refuses "
                            "to start",
    "fit.blocker.cc": "{vllm} does not run on compute capability {cc} (minimum {min_cc}): its wheels have no "
                      "kernels for {gpu}",
    "fit.blocker.quant-cc": "vLLM's {method} kernels need compute capability {floor} or newer; {gpu} has {cc}",
    # --- run-smoke's own findings ------------------------------------------------------
    "smoke.phase.interpreter": "interpreter start",
    "smoke.phase.import": "import vllm",
    "smoke.phase.engine-init": "engine init (weights, memory profiling, KV cache)",
    "smoke.phase.first-token": "first token",
    "smoke.phase.generation": "generation",
    "smoke.phase.shutdown": "shutdown",
    "smoke.phase.unknown": "unknown",
    "smoke.hint.import": "Importing vLLM reads thousands of files: from a Windows drive (/mnt/c) under WSL 2 this take"
                         "s minutes. Keep the environment on the Linux file system (~/).",
    "smoke.hint.engine-init": "Engine start-up loads (or downloads) the weights, compiles kernels and profiles memory.",
    "smoke.evidence.log": "full log: {path}",
    "smoke.evidence.no-output": "no byte and no output for {seconds} s",
    "smoke.why.killed": "The child was killed with its whole process group; nothing of it holds GPU memory.",
    "smoke.note.explain-again": "`envdoctor explain {path}` reads the log again.",
    "smoke.download-stalled.title": "The download of {file} stopped at {percent} % ({done} of {size})",
    "smoke.download-stalled.why": "The model download from the Hugging Face hub stopped moving: a network stall, not a"
                                  " problem of this environment. Without a watchdog it would wait for hours.",
    "smoke.download-stalled.note": "Download the model first (it resumes where it stopped), then run-smoke with --mode"
                                   "l on the local folder; or set HF_ENDPOINT to a nearer mirror. `envdoctor check --o"
                                   "nly network` measures the hub.",
    "smoke-stalled.title": "The generation made no progress (no output, no GPU memory change) for {seconds} s during "
                           "{phase}",
    "smoke-timed-out.title": "The generation did not finish for {seconds} s during {phase}",
    "smoke-failed.title": "vLLM failed during {phase}",
    "smoke-failed.evidence.no-result": "the child exited with code {code} without a result",
    "smoke-failed.why": "The generation did not complete and no known error signature matched; the last lines of the l"
                        "og say why.",
    "smoke-failed.note.inferred": "{reading} (explain's reading, lower confidence).",
    "smoke-failed.note.explain": "`envdoctor explain {path}` shows the most error-like lines.",
    "vllm-not-installed.title": "vLLM is not installed in {python}",
    "vllm-not-installed.evidence": "no vllm distribution in {python}'s environment",
    "vllm-not-installed.why": "run-smoke runs vLLM in the target interpreter; there is none to run.",
    "vllm-not-installed.note": "`envdoctor fix --plan` prints a known-good install for this machine; `--python PATH` p"
                               "oints run-smoke at another environment.",
    # --- check --from-report's own findings ----------------------------------------------
    "report.evidence.printed": "printed in the report, line {line}: {text}",
    "torch-cpu-build-on-gpu-machine.report.title": "torch {torch} is a CPU-only build: it cannot see a GPU, whether or"
                                                   " not this machine has one",
    "torch-cpu-build-on-gpu-machine.report.why": "A CPU build of torch has no CUDA, so `torch.cuda.is_available()` is "
                                                 "False and collect_env prints \"No CUDA\" for the GPU, the driver and"
                                                 " cuDNN even on a machine with an NVIDIA GPU. vLLM's CUDA build needs"
                                                 " torch's CUDA build.",
    "torch-cpu-build-on-gpu-machine.report.note": "`nvidia-smi` says whether there is a GPU and which CUDA its driver "
                                                  "runs; `envdoctor fix --plan` picks the matching torch build.",
    "gpu-arch-unsupported-by-extension.title": "{extension} was compiled for {archs}, not for {gpu} (compute "
                                               "capability {cc})",
    "gpu-arch-unsupported-by-extension.why": "A CUDA extension carries kernels only for the architectures it was "
                                             "compiled for (SASS runs on the same major architecture at the same or a "
                                             "higher minor, PTX is JIT-compiled on newer GPUs); with none for this GPU "
                                             "every op it runs fails with 'no kernel image is available for execution "
                                             "on the device', whatever torch itself supports.",
    "gpu-arch-unsupported-by-extension.note": "Rebuild the extension on this machine (its build compiles for the GPU "
                                              "it sees, or for TORCH_CUDA_ARCH_LIST), or install a prebuilt one "
                                              "that lists this architecture.",
    "wsl-multi-gpu.title": "{count} GPUs under WSL 2: running across several GPUs is fragile there",
    "wsl-multi-gpu.why": "Tensor parallelism goes through NCCL, which talks between the GPUs over shared memory and pe"
                         "er-to-peer paths that WSL 2's virtual GPU does not fully provide: NCCL did not support WSL 2"
                         " before 2.10, and reports of NCCL errors with several GPUs under WSL 2 stay open (microsoft/"
                         "WSL#12467).",
    "wsl-multi-gpu.note": "Start with --tensor-parallel-size 1 to confirm one GPU works; then try NCCL_P2P_DISABLE=1 a"
                          "nd a larger /dev/shm, or run multi-GPU jobs on native Linux.",
    "wsl-pin-memory-off.title": "WSL 2: vLLM runs without pinned memory, so UVA and CPU offloading are unavailable by "
                                "default",
    "wsl-pin-memory-off.why": "Pinned host memory is limited under WSL 2 (a known limitation in NVIDIA's CUDA on WSL g"
                              "uide), so vLLM turns it off there; UVA needs pinned memory. Expect slower host-device c"
                              "opies; --cpu-offload-gb needs page-locked memory.",
    "wsl-pin-memory-off.note": "vLLM 0.24 and later: VLLM_WSL2_ENABLE_PIN_MEMORY=1 turns it on (kernels 4.19.121 and l"
                               "ater).",
    "no-nvidia-gpu.report.macos.title": "macOS has no NVIDIA driver: CUDA, and vLLM's CUDA build, do not run there",
    "no-nvidia-gpu.report.macos.why": "CUDA 10.2 was the last CUDA toolkit and driver release for macOS (NVIDIA's CUDA"
                                      " 10.2 release notes); torch on a Mac is a CPU/MPS build.",
    "no-nvidia-gpu.report.macos.note": "Run vLLM on a Linux machine (or WSL 2) with an NVIDIA GPU, or a CPU/Apple-sili"
                                       "con backend.",
    # --- shared evidence lines ---------------------------------------------------------
    "evidence.platform": "platform: {platform}",
    "evidence.kernel": "kernel: {kernel}",
    "evidence.interpreter": "interpreter: {python} (Python {version}, chosen by {selected_by})",
    "evidence.prefix": "prefix: {prefix}",
    "evidence.not-found": "{path}: not found",
    "evidence.present": "present: {paths}",
    "evidence.packages": "packages: {packages}",
    "evidence.gpu-cc": "GPU {index}: {name}, compute capability {cc}",
    "evidence.installed": "installed: {what}",
    # --- platform ----------------------------------------------------------------------
    "native-windows-unsupported.title": "vLLM does not run on native Windows",
    "native-windows-unsupported.why": "vLLM supports Linux only; on Windows it runs inside WSL 2, which sees the "
                                      "GPU through the Windows NVIDIA driver.",
    "native-windows-unsupported.note.install": "Run the command in an administrator PowerShell, restart, open "
                                               "Ubuntu, then install and run envdoctor there.",
    "native-windows-unsupported.note.driver": "Keep only the Windows NVIDIA driver: never install a Linux driver "
                                              "inside WSL.",
    "wsl1-no-gpu.title": "{distro} runs under WSL 1, which has no CUDA",
    "wsl1-no-gpu.why": "CUDA on WSL is for WSL 2 only (NVIDIA CUDA on WSL User Guide).",
    "wsl1-no-gpu.note": "Run these in Windows PowerShell, not inside the distro; then reopen it.",
    "installing-into-system-python.title": "{python} is {what}, not a virtual environment",
    "installing-into-system-python.what.pyenv": "pyenv's base interpreter",
    "installing-into-system-python.what.system": "the system Python",
    "installing-into-system-python.what.base": "a base interpreter",
    "installing-into-system-python.collide.pyenv": "every other project that uses this pyenv version",
    "installing-into-system-python.collide.system": "what the distribution ships",
    "installing-into-system-python.collide.base": "everything else installed into it",
    "installing-into-system-python.why": "vLLM pins torch exactly and pulls in dozens of packages; installed into a "
                                         "base interpreter they collide with {collide}.",
    "installing-into-system-python.note.fresh": "A fresh environment can be deleted and rebuilt in minutes; a broken "
                                                "system Python cannot, and upgrading its packages can break the OS's "
                                                "own tools.",
    "installing-into-system-python.note.pep668": "This Python is marked EXTERNALLY-MANAGED (PEP 668): pip refuses "
                                                 "to install into it without --break-system-packages. Do not use "
                                                 "that flag.",
    "installing-into-system-python.note.selected": "envdoctor inspected {python} because it is {selected_by}. To "
                                                   "check a venv instead: `envdoctor check --python .venv/bin/python` "
                                                   "(or `source .venv/bin/activate` first).",
    "installing-into-system-python.note.venv-package": "On Debian/Ubuntu, `sudo apt install python3-venv` first if "
                                                       "venv is missing.",
    # --- WSL ---------------------------------------------------------------------------
    "wsl-libcuda-missing.title": "No libcuda.so in {lib}: WSL 2 cannot see an NVIDIA driver",
    "wsl-libcuda-missing.why": "Under WSL 2 the Windows NVIDIA driver provides CUDA: it maps its libcuda.so into "
                               "{lib}. Without it nothing in Linux can use the GPU.",
    "wsl-libcuda-missing.note.driver": "Install the current NVIDIA driver for your GPU on Windows (GeForce Game "
                                       "Ready/Studio or the notebook driver), then run the commands above in Windows "
                                       "PowerShell and reopen the distro.",
    "wsl-libcuda-missing.note.wslconf": "If /etc/wsl.conf has `[gpu] enabled=false`, remove that line.",
    "wsl-libcuda-not-on-loader-path.title": "{lib} is not on the loader path: libcuda.so.1 will not load",
    "wsl-libcuda-not-on-loader-path.evidence.ldconfig": "`ldconfig -p` lists no libcuda.so.1 and LD_LIBRARY_PATH "
                                                        "does not name it",
    "wsl-libcuda-not-on-loader-path.why": "torch and vLLM dlopen libcuda.so.1; WSL normally registers its folder in "
                                          "/etc/ld.so.conf.d/ld.wsl.conf. When that is gone CUDA reports no device.",
    "wsl-linux-driver-installed.title": "A Linux NVIDIA driver is installed inside WSL 2",
    "wsl-linux-driver-installed.evidence.libcuda": "Linux libcuda: {paths}",
    "wsl-linux-driver-installed.evidence.loader": "the loader resolves libcuda.so.1 to {path} ({source})",
    "wsl-linux-driver-installed.evidence.proc": "/proc/driver/nvidia exists (a Linux kernel driver was loaded)",
    "wsl-linux-driver-installed.why": "NVIDIA: the Windows driver is stubbed into WSL 2 as libcuda.so, \"therefore "
                                      "users must not install any NVIDIA GPU Linux driver within WSL 2\". Its "
                                      "libcuda.so shadows the stub and CUDA fails to initialise. The generic "
                                      "cuda/cuda-toolkit packages pull one in.",
    "wsl-linux-driver-installed.note.shutdown": "Run `wsl --shutdown` from Windows PowerShell. If a toolkit is needed "
                                                "at all, install the WSL-Ubuntu `cuda-toolkit-X-Y` package, never "
                                                "`cuda` or `cuda-drivers`.",
    "wsl-linux-driver-installed.note.dpkg": "`dpkg -S` names the package that owns the file: purge that package.",
    # --- driver and GPU ----------------------------------------------------------------
    "evidence.driver-supports": "driver {driver} supports CUDA {cuda}",
    "evidence.torch-built-for": "torch {torch} is built for CUDA {cuda}",
    "evidence.vllm-built-for": "vllm {vllm}'s kernels are built for CUDA {cuda}",
    "evidence.minor-compat": "CUDA {major}.x runs on drivers >= {driver} (minor-version compatibility)",
    "evidence.vllm-problem": "vllm {vllm} {problem}",
    "no-nvidia-gpu.title": "No NVIDIA GPU is visible",
    "no-nvidia-gpu.evidence.no-gpu": "the driver reported no GPU",
    "no-nvidia-gpu.why": "vLLM's default build runs on NVIDIA GPUs through the NVIDIA driver; without one it cannot "
                         "start (CPU builds of vLLM exist but are a different install).",
    "no-nvidia-gpu.note.wsl": "Under WSL 2 install the NVIDIA driver on Windows only; nothing inside Linux.",
    "no-nvidia-gpu.note.ubuntu": "On Ubuntu, `sudo ubuntu-drivers install` installs the recommended driver; reboot "
                                 "afterwards.",
    "no-nvidia-gpu.note.container": "In a container, start it with `--gpus all` (NVIDIA Container Toolkit).",
    "nvidia-driver-unreadable.title": "The NVIDIA driver could not be read ({reason})",
    "nvidia-driver-unreadable.reason.not-loaded": "not loaded",
    "nvidia-driver-unreadable.reason.timed-out": "timed out",
    "nvidia-driver-unreadable.reason.garbage": "garbage",
    "nvidia-driver-unreadable.reason.library-missing": "library missing",
    "nvidia-driver-unreadable.reason.failed": "failed",
    "nvidia-driver-unreadable.why.not-loaded": "The user-space tools are installed but the kernel driver is not "
                                               "running (a driver update without reboot, Secure Boot refusing an "
                                               "unsigned module, or a library/driver version mismatch).",
    "nvidia-driver-unreadable.why.timed-out": "The driver did not answer in time: a wedged GPU or a driver stuck in "
                                              "the kernel. vLLM would hang the same way.",
    "nvidia-driver-unreadable.why.garbage": "nvidia-smi printed something that is not its normal output: a wrapper "
                                            "script, a broken install or a mismatched driver.",
    "nvidia-driver-unreadable.why.library-missing": "The driver's user-space library (libnvidia-ml.so.1) cannot be "
                                                    "loaded: the dynamic loader does not know where it is.",
    "nvidia-driver-unreadable.why.failed": "The driver query failed.",
    "nvidia-driver-unreadable.note.wsl": "Update the NVIDIA driver on Windows, run `wsl --shutdown` in PowerShell and "
                                         "reopen the distro.",
    "nvidia-driver-unreadable.note.reboot": "After a driver install or update, reboot. With Secure Boot on, enroll "
                                            "the driver's MOK key or use the distribution's signed driver packages.",
    "driver-too-old-for-torch.title": "Driver {driver} is too old for {what}",
    "driver-too-old-for-torch.title.compat": "Driver {driver} runs {what} only through minor-version compatibility",
    "driver-too-old-for-torch.why.compat": "The driver is older than CUDA {cuda}'s own minimum ({native}), so "
                                           "the build runs with a limited feature set (NVIDIA's minor-version "
                                           "compatibility): PTX from a newer compiler cannot be JIT-compiled, and "
                                           "kernels compiled at run time (Triton, which vLLM uses) can fail with "
                                           "'the provided PTX was compiled with an unsupported toolchain'.",
    "driver-too-old-for-torch.what.torch": "torch built with CUDA {cuda}",
    "driver-too-old-for-torch.what.vllm": "vllm {vllm}'s kernels (CUDA {cuda})",
    "driver-too-old-for-torch.why": "A CUDA build runs only on a driver that supports that CUDA version (or, within "
                                    "the same major version, on a driver above the minor-version-compatibility "
                                    "floor). Otherwise torch.cuda.is_available() is False and vLLM fails at start-up.",
    "driver-too-old-for-torch.note.update": "Update the NVIDIA driver to {need} or newer{native}.",
    "driver-too-old-for-torch.note.update.wsl": "Update the NVIDIA driver to {need} or newer{native} on Windows (WSL "
                                                "uses the Windows driver).",
    "driver-too-old-for-torch.newer": "a newer release",
    "driver-too-old-for-torch.native": " ({driver} or newer runs CUDA {cuda} natively)",
    "driver-too-old-for-torch.note.other-build": "Or keep this driver and install the {build} build of the same torch "
                                                 "(above).",
    "driver-too-old-for-torch.note.vllm": "vllm {vllm}'s compiled kernels need the CUDA build it was made for: update "
                                          "the driver rather than swapping torch's build (or `envdoctor fix --plan` "
                                          "for a stack this driver runs).",
    "gpu-compute-capability-too-low.title": "vllm {vllm} needs compute capability >= {cc}",
    "gpu-compute-capability-too-low.why": "vLLM's kernels are compiled only for compute capability {cc} and up (its "
                                          "install docs and CMakeLists CUDA_SUPPORTED_ARCHS).",
    "gpu-compute-capability-too-low.note.older": "vllm {vllm} is the newest release that supports compute capability "
                                                 "{cc}.",
    "gpu-compute-capability-too-low.note.none": "No vLLM release supports this GPU; use a GPU with compute capability "
                                                "{cc} or higher, or a CPU/other backend.",
    "vllm-kernels-missing-for-gpu.title": "vllm {vllm} has no kernels for this GPU",
    "vllm-kernels-missing-for-gpu.why": "vLLM's CUDA kernels are compiled for a list of architectures (CMakeLists "
                                        "CUDA_SUPPORTED_ARCHS), cut to what its CUDA can compile: Blackwell (10.x, "
                                        "12.x) needs a CUDA >= 12.8 build. Otherwise it fails with \"no kernel image "
                                        "is available for execution on the device\".",
    "vllm-kernels-missing-for-gpu.note": "`envdoctor fix --plan` picks a release whose builds have kernels for this "
                                         "GPU.",
    "mixed-gpu-architectures.title": "GPUs of different compute capability ({kinds}) in one machine: give vLLM GPUs "
                                     "of one kind",
    "mixed-gpu-architectures.why": "vLLM picks its attention backend, dtype and kernels from the first GPU's compute "
                                   "capability; a GPU of another capability in the same engine may lack them (no "
                                   "bfloat16 or FlashAttention below 8.0), and tensor parallelism runs at the pace of "
                                   "the slowest GPU.",
    "mixed-gpu-architectures.note": "To use every GPU, run the engine for the oldest one (compute capability {cc}): "
                                    "--dtype half, and no FP8 or FlashAttention-only options.",
    "mixed-gpu-architectures.order": "The GPU numbers above are nvidia-smi's (PCI bus order); CUDA numbers GPUs "
                                     "fastest first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, so set both variables.",
    "bf16-unsupported.title": "This GPU cannot run bfloat16 models as they are: pass dtype=half",
    "bf16-unsupported.why": "bfloat16 needs compute capability 8.0. Most current models (Qwen2, Llama 3, ...) ship in "
                            "bfloat16, so vLLM's dtype=auto picks it and stops with \"Bfloat16 is only supported on "
                            "GPUs with compute capability of at least 8.0\".",
    "bf16-unsupported.note": "In Python: LLM(model=..., dtype=\"half\").",
    "gpu-memory-in-use.title": "GPU memory is already in use by other processes",
    "gpu-memory-in-use.evidence.gpu": "GPU {index}: {used} MiB of {total} MiB in use, {free} MiB free",
    "gpu-memory-in-use.why": "vLLM reserves gpu_memory_utilization (0.9 by default) of the card's TOTAL memory and "
                             "fails at start-up when that much is not free.",
    "gpu-memory-in-use.why.wsl": "vLLM reserves gpu_memory_utilization (0.9 by default) of the card's TOTAL memory "
                                 "and fails at start-up when that much is not free. Under WSL the Windows desktop "
                                 "shares the card and its use is not listed.",
    "gpu-memory-in-use.note.stop": "Or stop the processes listed above first.",
    "gpu-memory-in-use.note.close": "Or close what holds the memory first (`nvidia-smi` lists it).",
    "gpu-memory-in-use.note.close.wsl": "Or close what holds the memory first: under WSL that is Windows apps (Task "
                                        "Manager, Performance, GPU shows their dedicated memory).",
    # --- torch -------------------------------------------------------------------------
    "torch-cpu-build-on-gpu-machine.title": "torch {torch} is a CPU-only build",
    "torch-cpu-build-on-gpu-machine.evidence.torch": "torch {torch}: no CUDA in torch/version.py",
    "torch-cpu-build-on-gpu-machine.evidence.gpu": "GPU: {gpu}, driver {driver}",
    "torch-cpu-build-on-gpu-machine.why": "A CPU build of torch cannot use the GPU, and vLLM's CUDA kernels cannot "
                                          "load against it. It comes from the CPU wheel index, a `+cpu` pin, or an "
                                          "install that fell back to it.",
    "torch-cpu-build-on-gpu-machine.note": "Install the CUDA build of torch that your vLLM version pins (see "
                                           "`envdoctor fix --plan`).",
    "torch-arch-missing-for-gpu.title": "torch has no kernels for {gpu} ({sm})",
    "torch-arch-missing-for-gpu.evidence.gpu": "GPU {index}: {name}, compute capability {cc} ({sm})",
    "torch-arch-missing-for-gpu.evidence.archs": "torch {torch} has: {archs} (from {where})",
    "torch-arch-missing-for-gpu.why": "GPU code runs only if the build carries machine code for the GPU's "
                                      "architecture (or PTX for an older one that the driver can compile). Otherwise "
                                      "every kernel fails with \"no kernel image is available for execution on the "
                                      "device\".",
    "torch-arch-missing-for-gpu.note": "torch {torch} ({build}) is the oldest release in envdoctor's data with {sm} "
                                       "kernels; pick the vLLM release that pins a torch at least that new "
                                       "(`envdoctor fix --plan`).",
    "torch-cuda-init-failed.title": "torch could not use CUDA",
    "torch-cuda-init-failed.why": "This is the error vLLM will hit at start-up. Its text names the cause: an old "
                                  "driver, a missing libcuda (WSL), a GPU without matching kernels, or "
                                  "CUDA_VISIBLE_DEVICES hiding the GPU.",
    "torch-cuda-init-failed.note": "The other findings above name the likely cause; fix those and run this command "
                                   "again.",
    "vllm-torch-mismatch.title": "vllm {vllm} needs torch{spec}, found {found}",
    "vllm-torch-mismatch.no-torch": "no torch",
    "vllm-torch-mismatch.why": "vLLM's compiled extension (vllm/_C.abi3.so) is linked against one exact torch; with "
                               "any other it fails to import with \"undefined symbol\".",
    "vllm-torch-mismatch.note.together": "Install both together so pip cannot swap torch again: `pip install "
                                         "vllm=={vllm} torch{spec}`.",
    "vllm-torch-mismatch.note.fresh": "If more than this is broken, a fresh environment is faster: `envdoctor fix "
                                      "--plan`.",
    # --- packages ----------------------------------------------------------------------
    "evidence.more": "... and {count} more",
    "missing-requirements.title": "{count} declared requirement(s) not met",
    "missing-requirements.evidence.missing": "{who} needs {req}: not installed",
    "missing-requirements.evidence.found": "{who} needs {req}: found {have}",
    "missing-requirements.why": "A package whose requirements are missing fails at import time, one crash at a "
                                "time: the \"tutorial forgot a package\" problem. pip only checks what it installs "
                                "itself.",
    "missing-requirements.note.conflicts": "Conflicts: installing one side may break the other. Run `pip check`; "
                                           "when several stack packages conflict, a fresh environment is faster "
                                           "(`envdoctor fix --plan`).",
    "vllm-known-issue.title": "vllm {vllm} {problems}",
    "vllm-known-issue.evidence.pin": "vllm {vllm} {problem}; found {found}",
    "vllm-known-issue.why": "vLLM's own documentation lists this release's problem; it shows up at run time, not at "
                            "install.",
    "vllm-known-issue.note.offer": "vllm {offer} fixes it; `envdoctor fix --vllm {offer}` plans it in a new "
                                   "environment (its torch pin differs, so an in-place upgrade swaps torch too).",
    "python-unsupported-by-vllm.title": "Python {python} is not supported by {subject}",
    "python-unsupported-by-vllm.installed": "vllm {vllm} (installed)",
    "python-unsupported-by-vllm.newest": "the newest vllm ({vllm})",
    "python-unsupported-by-vllm.evidence.target": "target: {executable} is Python {python}",
    "python-unsupported-by-vllm.evidence.range": "vllm {vllm} runs on Python {span} ({limits})",
    "python-unsupported-by-vllm.why": "pip can only install vLLM and its exactly pinned torch where wheels exist for "
                                      "this Python; otherwise it fails, or silently picks an older release.",
    "python-unsupported-by-vllm.note.newest": "vllm {vllm} is the newest release with wheels for Python {python}.",
    "python-unsupported-by-vllm.note.none": "No vLLM release in envdoctor's data supports Python {python}.",
    "python-unsupported-by-vllm.note.other": "Or create a venv with Python {python} by any other means (conda create "
                                             "-n vllm python={python}, pyenv, deadsnakes).",
    # --- CUDA toolkit ------------------------------------------------------------------
    "cuda-toolkit-not-needed.title": "The CUDA toolkit is not needed to run vLLM from wheels",
    "cuda-toolkit-not-needed.evidence.toolkits": "toolkit(s): {versions}",
    "cuda-toolkit-not-needed.evidence.toolkits.nvcc": "toolkit(s): {versions}; nvcc on PATH: {nvcc}",
    "cuda-toolkit-not-needed.evidence.torch": "torch is built for CUDA {cuda} and brings its own runtime libraries",
    "cuda-toolkit-not-needed.evidence.driver": "driver supports CUDA {cuda}",
    "cuda-toolkit-not-needed.why": "torch and vLLM wheels ship the CUDA runtime as pip packages "
                                   "(nvidia-cuda-runtime-cu12, cuda-toolkit) and need only a new enough driver. The "
                                   "toolkit version does not have to match anything unless you compile CUDA code; the "
                                   "\"CUDA Version\" nvidia-smi prints{limit} is the driver's limit, not an install.",
    "cuda-toolkit-not-needed.limit": " ({limit})",
    "cuda-toolkit-not-needed.note": "Keep the toolkit only if you build vLLM or other CUDA extensions from source.",
    "cuda-toolkit-mismatch-for-build.title": "nvcc is CUDA {nvcc} but torch is built for CUDA {torch}",
    "cuda-toolkit-mismatch-for-build.why": "Building vLLM or any torch CUDA extension from source fails when nvcc's "
                                           "major version differs from torch's (\"The detected CUDA version "
                                           "mismatches the version that was used to compile PyTorch\"). Installing "
                                           "from wheels is not affected.",
    "cuda-toolkit-mismatch-for-build.note": "Install a CUDA {major}.x toolkit only if you build from source.",
    # --- resources ---------------------------------------------------------------------
    "disk.pip cache": "pip cache",
    "disk.Hugging Face cache": "Hugging Face cache",
    "disk.temp": "temp",
    "low-disk.title": "Only {free} free where installs and models go",
    "low-disk.evidence": "{purpose}: {path}: {free} free of {total}",
    "low-disk.why": "A vLLM install downloads and unpacks several GB (torch with its CUDA libraries alone is over 4 "
                    "GB), pip keeps a cached copy, and model weights come on top; below {limit} GiB installs fail "
                    "half-way with \"No space left on device\".",
    "low-disk.note": "Or point the caches at a bigger disk: export PIP_CACHE_DIR=/big/pip HF_HOME=/big/hf "
                     "TMPDIR=/big/tmp",
    "low-ram.title": "Only {available} of RAM available",
    "low-ram.evidence": "RAM: {total} total, {available} available",
    "low-ram.evidence.wslconfig": "{path}: [wsl2] memory={memory}",
    "low-ram.not-set": "(not set: 50% of host RAM)",
    "low-ram.why": "vLLM reads the weights through CPU memory and starts worker processes; with little RAM loading "
                   "swaps heavily or the kernel's OOM killer ends it without a Python error.",
    "low-ram.why.wsl": "vLLM reads the weights through CPU memory and starts worker processes; with little RAM "
                       "loading swaps heavily or the kernel's OOM killer ends it without a Python error. WSL 2 gives "
                       "Linux only half of the Windows RAM unless .wslconfig says otherwise.",
    "low-ram.note": "Close other programs or add swap.",
    "low-ram.note.wsl": "First raise the cap: in %UserProfile%\\.wslconfig under [wsl2] set memory=12GB (for example). "
                        "Then, in Windows PowerShell, run `wsl --shutdown` and reopen the distro: the new cap applies "
                        "only after that (`wsl --shutdown` alone does not raise it).",
    # --- check's human view --------------------------------------------------------------
    "label.seen": "seen: ",
    "label.area": ": ",
    "label.why": "why:  ",
    "label.docs": "docs: ",
    "severity.error": "ERROR",
    "severity.warn": "WARN",
    "severity.info": "INFO",
    "check.header": "envdoctor {version}: checked in {seconds} s",
    "check.header.wall": "envdoctor {version}: checked in {seconds} s ({wall} s with start-up)",
    "check.no-problems": "No problems found.",
    "check.counts": "{errors} error(s), {warnings} warning(s), {infos} info · exit code {code}",
    "check.ci-counts": "envdoctor: {errors} error(s), {warnings} warning(s), {infos} info in {seconds} s (exit {code})",
    "check.deadline-hit": " · the global deadline was hit: rerun with --deadline 30",
    "check.rule-crashed": "envdoctor itself failed on a rule (please report this):",
    "area.platform.title": "Platform",
    "area.wsl.title": "WSL GPU plumbing",
    "area.driver.title": "NVIDIA driver",
    "area.cuda.title": "CUDA toolkit",
    "area.python.title": "Python environment",
    "area.torch.title": "torch runtime",
    "area.resources.title": "Resources",
    "area.model.title": "Model",
    "area.network.title": "Network",
    # --- why a probe has no facts --------------------------------------------------------
    "probe.not-linux": "not Linux ({system}): vLLM needs Linux or WSL 2",
    "probe.wsl.not-wsl2": "not running under WSL 2",
    "probe.wsl.wsl1": "not running under WSL 2 (WSL 1 has no GPU at all)",
    "probe.driver.absent": "no NVIDIA driver: neither the NVML library nor nvidia-smi is installed",
    "probe.cuda.absent": "no CUDA toolkit installed (none is needed to run vLLM from wheels)",
    "probe.torch.no-python": "the Python environment could not be read",
    "probe.torch.absent": "torch is not installed in the target environment",
    "probe.network.replayed": "a recorded machine has no network to check",
    # --- blockers (why a vLLM release does not run here: a clause after "vllm X") and changes ----
    "blocker.windows": "does not run on native Windows (Linux wheels only)",
    "change.windows": "run it in WSL 2: `wsl --install -d Ubuntu-22.04` in an administrator PowerShell",
    "blocker.wsl1": "cannot reach the GPU from WSL 1",
    "change.wsl1": "convert the distro to WSL 2: `wsl --set-version <distro> 2` in PowerShell",
    "blocker.macos": "has no CUDA build for macOS",
    "change.macos": "use a Linux machine with an NVIDIA GPU",
    "blocker.jetson": "is not planned for Jetson: its driver and CUDA come with JetPack, and the package index's "
                      "x86_64/SBSA wheels are not Jetson builds",
    "change.jetson": "use NVIDIA's Jetson builds of vLLM and torch (jetson-containers, the Jetson AI Lab wheel index) "
                     "for your JetPack release",
    "blocker.arch": "has no wheel for {arch} (only {platforms})",
    "change.arch": "pick a vLLM release with {arch} wheels, or an x86_64 machine",
    "blocker.glibc": "needs glibc >= {need} (its wheel is {tag}); this system has {glibc}",
    "change.glibc": "use a newer distribution (glibc >= {need}) or a container, or an older vLLM release",
    "blocker.no-gpu": "needs an NVIDIA GPU; none is visible here",
    "change.no-gpu": "run on a machine with an NVIDIA GPU (or plan for one with --gpu NAME --driver X)",
    "blocker.unknown-cc": "cannot be judged for {gpu}: its compute capability is not known",
    "change.unknown-cc": "find it with `{command}` and pass --cc X.Y",
    "blocker.unknown-min-cc": "has no minimum compute capability in envdoctor's data",
    "change.unknown-min-cc": "read it in vLLM {vllm}'s install docs (\"compute capability X or higher\") or its "
                             "CMakeLists.txt CUDA_SUPPORTED_ARCHS, or pick another release",
    "blocker.cc-too-low": "needs compute capability >= {need}; {gpu} is {cc}",
    "change.cc-too-low.none": "use a GPU with compute capability {lowest} or higher (no vLLM release supports {cc})",
    "change.cc-too-low.older": "pick another vLLM release: vllm {vllm} supports compute capability {cc}",
    "blocker.unknown-vllm-archs": "cannot be judged for {gpu} ({sm}): the CUDA build or arch list of vllm {vllm} is "
                                  "not in envdoctor's data",
    "change.unknown-vllm-archs": "pick another vLLM release, or read its CMakeLists.txt CUDA_SUPPORTED_ARCHS",
    "blocker.vllm-no-kernels": "has no kernels for {gpu} ({sm}) in its CUDA {cuda} build",
    "change.vllm-no-kernels": "pick a newer vLLM release (Blackwell needs CUDA >= 12.8 builds of vLLM and torch)",
    "blocker.unknown-torch-archs": "pins torch {torch}, and whether its {tag} build has kernels for {gpu} ({sm}) is "
                                   "not in envdoctor's data",
    "change.unknown-torch-archs": "find out: `python -c \"import torch; print(torch.cuda.get_arch_list())\"` with "
                                  "torch {torch}",
    "blocker.torch-no-kernels": "pins torch {torch} whose {tag} build has no kernels for {gpu} ({sm}; it has {archs}, "
                                "from {where})",
    "change.torch-no-kernels": "pick a newer vLLM release (its torch build has no kernels for this GPU)",
    "blocker.unknown-driver": "cannot be judged on driver {driver}: which CUDA it runs is not in envdoctor's data "
                              "(older than R418?)",
    "change.unknown-driver": "read the \"CUDA Version\" that `nvidia-smi` prints, or update the NVIDIA driver: {url}",
    "blocker.built.torch": "torch {torch} built for CUDA {cuda}",
    "blocker.built.both": "CUDA {vllm_cuda} (its kernels) and torch {torch} built for CUDA {cuda}",
    "blocker.driver-too-old": "needs {built}; driver {driver} supports CUDA <= {have}",
    "change.driver": "update the NVIDIA driver to {need} or newer (CUDA {what}){native}: {url}",
    "change.driver.windows": "update the NVIDIA driver on Windows (WSL 2 uses the Windows driver) to {need} or newer "
                             "(CUDA {what}){native}",
    "change.driver.native": "; {native} or newer runs CUDA {cuda} natively",
    # --- plan steps ----------------------------------------------------------------------
    "plan.driver.title": "Check the NVIDIA driver",
    "plan.driver.where": "the NVIDIA driver",
    "plan.driver.where.wsl2": "the Windows driver (WSL 2 uses it)",
    "plan.driver.built.same": "vLLM {vllm} and torch {torch} are built for CUDA {cuda}",
    "plan.driver.built.both": "vLLM {vllm} is built for CUDA {vllm_cuda}, torch {torch} for CUDA {cuda}",
    "plan.driver.why": "{built}: {where} must be {need} or newer{native}. The wheels bring their own CUDA runtime: no "
                       "CUDA toolkit is needed.",
    "plan.driver.native": " ({native} or newer runs CUDA {cuda} natively)",
    "plan.driver.check": "driver >= {need}",
    "plan.env.title": "Create the environment ({tool}, Python {python})",
    "plan.env.how.conda": "a new conda environment (conda brings its own Python)",
    "plan.env.how.uv": "a new uv virtual environment (uv finds or fetches the Python; --seed puts pip in it)",
    "plan.env.how.venv": "a new virtual environment from python{python}",
    "plan.env.how.venv.other": "a new virtual environment from python{python} (the Python in use is {current}: install "
                               "python{python} first, or rerun with --env-tool uv)",
    "plan.env.why": "{how}, never the environment in use: a half-finished install cannot damage it. Python {python}: "
                    "the wheels of this stack exist for Python {pythons} ({limits}).",
    "plan.env.check": "the new environment runs Python {python}",
    "plan.pip.title": "Upgrade pip",
    "plan.pip.why": "pip {pip} or newer resumes a download that broke off (--resume-retries, pip {resume}) instead of "
                    "starting 800 MB again, and resolves without downloading (what `fix --apply` builds on).",
    "plan.pip.why.old": "the newest pip Python {python} can run (pip {resume}, which resumes broken downloads, needs "
                        "Python 3.9).",
    "plan.pip.check": "pip >= {pip}",
    "plan.pip.check.runs": "pip runs",
    "plan.torch.title": "Install torch {torch} ({tag})",
    "plan.torch.why": "vLLM {vllm} pins {pin} exactly (its compiled kernels link against it); the CUDA {cuda} build "
                      "({tag}) is the one the package index serves for {pin}, which vLLM's release is made with. "
                      "Installed on its own first, so the largest download is retried and verified by itself.",
    "plan.torch.check": "torch {torch} built for CUDA {cuda}",
    "plan.torch.check.gpu": "torch reaches the GPU",
    "plan.torch.download": "plus the CUDA libraries torch depends on (nvidia-* wheels), not counted",
    "plan.vllm.title": "Install vLLM {vllm}",
    "plan.vllm.why": "vLLM with the companions it pins ({companions}); the constraints file holds torch at {torch} so "
                     "pip can never swap in another build.{extra}{variant}",
    "plan.vllm.none": "none",
    "plan.vllm.extra": " Also {pins}, which this release needs.",
    "plan.vllm.variant": " vLLM's {variant} wheel comes from its GitHub release, its companions' {tag} builds from "
                         "{index}.",
    "plan.vllm.check": "vllm {vllm} imports, torch is still {torch}",
    "plan.vllm.check.pip": "no broken requirements (pip check)",
    "plan.vllm.download": "plus vLLM's other dependencies, not counted",
    # --- the resolver's own blockers, changes and stack notes -----------------------------
    "blocker.driver-unanswered": "the NVIDIA driver did not answer ({status}: {error})",
    "blocker.python-none": "has no Python that all its wheels exist for ({limits})",
    "change.python-none": "pick another vLLM release (no Python fits vllm {vllm}'s wheels)",
    "blocker.python-wish": "does not run on Python {python} ({limits})",
    "change.python-wish": "use Python {span} for vllm {vllm}",
    "blocker.torch-unknown": "pins torch {torch}, which is not in envdoctor's data (or has no default CUDA build)",
    "change.refresh": "refresh the data: `envdoctor matrices refresh`",
    "blocker.driver-broken": "needs a working NVIDIA driver; the one here did not answer",
    "change.driver-broken": "fix the driver first (see `envdoctor check`)",
    "blocker.no-wheel": "pins {pin}, which has no wheel (it would build from source)",
    "change.another-release": "pick another vLLM release",
    "blocker.variant-wheel": "has no {variant} wheel for {arch} in envdoctor's data",
    "change.variant-wheel": "pick a vLLM release with {arch} wheels",
    "change.driver-unlocks": "update the NVIDIA driver to {need} or newer (CUDA {major}.x): that runs vllm {vllm} "
                             "({url})",
    "change.driver-unlocks.windows": "update the NVIDIA driver on Windows (WSL 2 uses the Windows driver) to {need} or "
                                     "newer (CUDA {major}.x): that runs vllm {vllm}",
    "change.driver-least": "the least driver that runs a vLLM release here is {need} (CUDA {major}.x): vllm {vllm}",
    "stack.no-toolkit": "No CUDA toolkit is needed: the wheels bring their own CUDA runtime; only the driver matters.",
    "stack.no-toolkit.here": "No CUDA toolkit is needed: the wheels bring their own CUDA runtime; only the driver "
                             "matters (the CUDA {toolkit} toolkit installed here is not used).",
    "stack.known": "vllm {vllm} {text}{pins}{offer}.",
    "stack.known.pins": ": the plan pins {pins}",
    "stack.known.offer": "; vllm {offer} fixes it (envdoctor fix --vllm {offer})",
    "stack.variant": "vllm {vllm} is vLLM's CUDA {vllm_cuda} wheel from its GitHub release (the package index has only "
                     "the CUDA {cuda} build), installed with torch {torch}.",
    "stack.torch-build": "torch {torch} instead of the default {default} build: the default has no kernels for this "
                         "GPU, or its arch list is not known.",
    # NVIDIA: "applications built with a newer toolkit run with a limited feature set"; code that JIT-compiles PTX
    # newer than the driver fails (https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html).
    "stack.via-compat": "Driver {driver} runs CUDA {cuda} through minor-version compatibility (CUDA {major}.x on "
                        "drivers >= {compat}); {native} or newer runs it natively. Caveat: minor-version compatibility "
                        "has limits: code that JIT-compiles PTX newer than the driver fails with \"the provided PTX "
                        "was compiled with an unsupported toolchain\".",
    "stack.newer-driver": "a newer driver",
    "stack.no-bf16": "Compute capability below 8.0 has no bfloat16: run vLLM with --dtype half.",
    "stack.default-index": "torch's CUDA build is not listed on the PyTorch wheel index in envdoctor's data: it is "
                           "installed from the default package index.",
    "stack.other-python": "Python {python} for the new environment: the Python in use ({current}) is outside what this "
                          "stack runs on ({limits}).",
    "stack.glibc": "The vllm wheel needs glibc >= {glibc} (its manylinux tag); check with `ldd --version`.",
    "stack.gpu-unknown": "GPU not known: it needs compute capability {cc} or higher.",
    "stack.driver-unknown": "Driver not known: it needs {linux} or newer on Linux{windows}.",
    "stack.driver-unknown.windows": ", {windows} or newer on Windows (WSL 2)",
    "stack.newest-here": "vllm {vllm} is the newest release that runs on the Python in use ({python}).",
    "plan.wanted.newest": "the newest vLLM that runs here",
    # --- fix --plan's human view ---------------------------------------------------------
    "sep.items": ", ",
    "plan.head": "Plan for {wanted}",
    "plan.machine": "  machine: {machine}",
    "plan.target": "{os} {machine}, {gpus}, {driver}, Python {python}",
    "plan.target.gpu": "{name} (compute capability {cc})",
    "plan.target.no-gpu": "no NVIDIA GPU",
    "plan.target.gpu-unknown": "GPU not known",
    "plan.target.driver": "driver {driver} (CUDA <= {cuda})",
    "plan.target.driver-unknown": "driver not known",
    "plan.target.overridden": " [planned for: {given} given]",
    "plan.summary": "vllm {vllm} + torch {torch} ({tag}) on Python {python}",
    "plan.summary.with": " with {pins}",
    "plan.release-span": "{first}–{last} ({count} releases)",
    "plan.none": "✗ No vLLM release in envdoctor's data runs here as asked.",
    "plan.changes": "What has to change:",
    "plan.torch-wheels": "  torch wheels: {index}",
    "plan.default-index": "the default package index",
    "plan.pythons": "  Python {python}: wheels exist for {pythons} ({limits})",
    "plan.driver-floor": "  driver: >= {linux} (Linux) / >= {windows} (Windows, WSL 2) for CUDA {cuda}; CUDA {major}.x "
                         "runs on >= {compat} (minor-version compatibility)",
    "plan.new-env": "  new environment: {env} ({tool}); download about {size} plus dependencies",
    "plan.needs-root": " (needs root)",
    "plan.write": "   write {path}: {content}",
    "plan.check": "   check: {what}",
    "plan.then-smoke": "Then prove it with a real generation:",
    "plan.or-apply": "Or: envdoctor fix --apply (does all of this in a new environment, resumable), --format sh | md | "
                     "json | dockerfile",
    "plan.model": "Model {model} on {gpu}: {verdict}",
    "plan.instead": "   instead: {command}",
    "plan.newest-here": "The newest release that would run here: vllm {vllm} (envdoctor fix --plan)",
    "plan.rejected": "Releases that do not fit:",
    # --- explain: what the analyses add ---------------------------------------------------
    "explain.line.downloading": "line {line}: Downloading {file} ({size})",
    "explain.download.average": "{done} in {seconds} s by the log's timestamps: {rate} MB/s on average",
    "explain.download.done": " at {done} of {size} ({percent} %)",
    "explain.download.done.comma": ", at {done} of {size} ({percent} %)",
    "explain.download.eta": " (eta {eta})",
    "explain.download.lost": " The {done} already received were thrown away: pip before 25.2 does not resume, so a "
                             "rerun starts from zero.",
    "explain.download.other": "{title} ({what}, {size}{done})",
    "download-slow.title": "The {what} wheel ({size}) downloaded too slowly and timed out{done}",
    "download-slow.trickle": "a trickle",
    "download-slow.why": "The line delivered only {rate}{eta}: a {size} wheel takes a very long time at that speed, "
                         "and a pause longer than pip's read timeout (15 s by default) ends the download.{lost} The "
                         "package index or its mirror is far or throttled; the environment is not at fault.",
    "download-stalled.title": "The {what} wheel ({size}) download stalled{done}; pip's read timeout fired",
    "download-stalled.rate": " at {rate}",
    "download-stalled.why": "A stall, not a slow line: the download was running{rate}{eta}, then no data arrived for "
                            "pip's read timeout (15 s by default) and pip gave up.{lost} Nothing in the environment "
                            "(CUDA, driver, Python) is wrong; reinstalling them will not help.",
    "explain.note.pip-resume": "pip 25.2 and later resume an interrupted download by themselves (pip 25.1 added "
                               "--resume-retries): python3 -m pip install --upgrade 'pip>=25.2' ({url}).",
    "torch-unpinned-in-build.title.pinned": "This step downloads an unpinned torch {torch} that vLLM {vllm} does not "
                                            "use",
    "torch-unpinned-in-build.why.pinned": "{who} asks for any torch, so pip picked the newest, {torch} ({size}). vLLM "
                                          "{vllm} pins torch=={pin} (matrices/vllm.csv): this second torch is never "
                                          "used by vLLM, and installed into vLLM's environment it would break it "
                                          "(vllm-torch-mismatch).",
    "torch-unpinned-in-build.note.constrain": "Constrain it instead: echo 'torch=={pin}' > constraints.txt and pass -c "
                                              "constraints.txt.",
    "torch-unpinned-in-build.title": "This step downloads torch {torch} unpinned, as a dependency of {who}",
    "torch-unpinned-in-build.title.any": "This step downloads torch{torch} unpinned, as a dependency of {who}",
    "torch-unpinned-in-build.why": "{who} asks for any torch, so pip picked the newest, {torch} ({size}). vLLM pins one"
                                   " exact torch (requirements-cuda.txt in its source tree){pinning}. With any other "
                                   "vLLM this is a second torch download that vLLM does not use.",
    "torch-unpinned-in-build.pinning": "; of the vLLM releases envdoctor knows, {releases} pin torch {torch}",
    "torch-unpinned-in-build.pinning.one": "; of the vLLM releases envdoctor knows, {releases} pins torch {torch}",
    "torch-unpinned-in-build.pinning.none": "; none of the vLLM releases envdoctor knows pins torch {torch}",
    "torch-unpinned-in-build.note.grep": "grep -n '^torch' requirements-cuda.txt in the vLLM source tree shows the pin;"
                                         " `envdoctor explain LOG --vllm VERSION` checks it against that release.",
    "torch-unpinned-in-build.note.no-deps": "`--no-deps` builds only the wheel; its dependencies are installed where "
                                            "vLLM is (what vLLM's own later Dockerfile does for this step).",
    "explain.note.docker-image": "This builds vLLM's own image: the published {image} image of the same version needs "
                                 "no build and no wheel downloads inside it, only a pull that Docker resumes layer by "
                                 "layer.",
    "explain.note.docker-image.tag": "This builds vLLM's own image: the published {image} image of the same version "
                                     "needs no build and no wheel downloads inside it, only a pull that Docker resumes "
                                     "layer by layer. Its tag is v plus the vLLM version (e.g. v0.5.3); --vllm fills it"
                                     " in.",
    "explain.note.docker-cache": "Other RUN steps of this Dockerfile use `--mount=type=cache,target=/root/.cache/pip`; "
                                 "the step that failed does not, so each retry downloads everything again. Add the "
                                 "cache mount to it.",
    "explain.note.docker-env": "In the Dockerfile, before the step: ENV PIP_DEFAULT_TIMEOUT=60 PIP_RETRIES=10 (pip's "
                               "--timeout and --retries as environment variables).",
    "explain.note.docker-wheelhouse": "Or download the wheels once where the line is good (pip download -d wheelhouse "
                                      "...), COPY the wheelhouse into the build and install with --no-index "
                                      "--find-links wheelhouse.",
    # --- explain's human view ------------------------------------------------------------
    "explain.lines": "{count} lines",
    "explain.kind.docker-build": "docker build",
    "explain.kind.container-start": "container start",
    "explain.kind.pip": "pip",
    "explain.kind.vllm": "vLLM",
    "explain.kind.wsl": "WSL",
    "explain.summary": "envdoctor explain: {source} ({parts}; {seconds} s)",
    "explain.note": "  note: {note}",
    "explain.nothing-known": "No known problem recognised in this log.",
    "explain.error-lines": "The lines that look most like errors:",
    "explain.line": "  line {number}: {text}",
    "explain.no-errors": "Nothing in it looks like an error.",
    "explain.if-failed": "If it failed, run `envdoctor check` on the machine, or attach the log to a bug report "
                         "(`envdoctor report` writes a redacted one).",
    "explain.exit": "exit code {code}",
    "explain.class": "Class: {name}",
    "explain.class.meaning": " - {meaning}",
    "explain.class.network": "network",
    "explain.class.environment": "environment / version mismatch",
    "explain.class.wsl": "WSL",
    "explain.class.resources": "resources / memory",
    "explain.class.build": "build from source",
    "explain.class.docker": "docker / container",
    "explain.class.other": "other",
    "explain.class.network.meaning": "the network failed; the environment is not at fault and needs no reinstall",
    "explain.class.environment.meaning": "versions or installed pieces that do not fit together",
    "explain.class.wsl.meaning": "WSL 2 plumbing",
    "explain.class.resources.meaning": "not enough memory or disk",
    "explain.class.build.meaning": "compiling from source failed",
    "explain.class.docker.meaning": "Docker or the container runtime",
    "explain.class.other.meaning": "",
    "explain.root": "ROOT CAUSE",
    "explain.also": "ALSO",
    "explain.label.note": "NOTE",
    "explain.surfaced": "Surfaced as:",
    "explain.counts": "{causes} cause(s), {others} other finding(s) · exit code {code}",
    "explain.shared": " (also a `check` finding)",
    "explain.inferred": "    confidence: lower - inferred from the error's words, the tool that failed and the kind of "
                        "log; no exact signature matched",
    "explain.seen-at": "    error text seen at: {source}",
    "explain.evidence.line": "line {line}: {text}",
    "explain.evidence.count": "{count} matching lines in all",
    "probe.exited": "{tool} exited with code {code}: {output}",
    # --- area status lines ---------------------------------------------------------------
    "summary.platform.wsl": " on WSL {wsl}",
    "summary.platform.container": " in {container}",
    "summary.platform.kernel": "{where} ({machine}, kernel {kernel})",
    "summary.platform": "{where} ({machine})",
    "summary.wsl.stub": "libcuda stub present",
    "summary.wsl.no-stub": "no libcuda stub",
    "summary.wsl.loader": "loader → {path}",
    "summary.wsl.no-loader": "loader finds no libcuda.so.1",
    "summary.driver": "{version} (CUDA {cuda}) via {source}",
    "summary.driver.no-gpu": "no GPU",
    "summary.cuda.no-nvcc": "no nvcc on PATH",
    "summary.cuda.installed": "installed: {toolkits}",
    "summary.python.packages": "{count} packages",
    "summary.torch.cached": " · cached (same torch, driver and GPUs; --fresh re-runs it)",
    "summary.torch.cpu": "torch {version} (CPU build)",
    "summary.torch.available": "CUDA available",
    "summary.torch.not-available": "CUDA NOT available",
    "summary.resources.ram": "RAM {total} ({available} available)",
    "summary.resources.disk": " · disk {free} free ({purpose})",
    "progress.checking": "envdoctor: checking {areas} · at most {seconds} s left",
    "extension-torch-mismatch.title": "torchvision {vision} is built for another torch than torch {torch}",
    "extension-torch-mismatch.evidence.series": "torch {torch} goes with torchvision {want}.x, not {have}",
    "extension-torch-mismatch.evidence.build": "torch is the {torch} build, torchvision the {vision} build",
    "extension-torch-mismatch.evidence.index-build": "torchvision {vision} has no build tag: it is the package "
                                                     "index's wheel, built for CUDA {cuda}, and torch is the "
                                                     "{torch} build",
    "extension-torch-mismatch.why": "torchvision's compiled operators (torchvision::nms, the image decoders) are linked"
                                    " against one torch release and its CUDA build; next to another they fail to load "
                                    "(\"operator torchvision::nms does not exist\", undefined symbols), and pip may "
                                    "swap "
                                    "torch to satisfy torchvision's pin.",
    "extension-torch-mismatch.note": "Install torch and torchvision in one command from the same index so their builds "
                                     "match.",
    "network.mirror.pypi": "Option, if you are in mainland China: a public PyPI mirror by {name}: "
                           "`{pip} config set global.index-url {url}` (see {doc})",
    "network.mirror.torch": "The default CUDA build of each torch release is also on the package index (and its "
                            "mirrors): `{pip} install torch=={version}` without --index-url needs no PyTorch index.",
    "network.mirror.hf": "Option, if you are in mainland China: `export HF_ENDPOINT={url}` (hf-mirror, a "
                         "community mirror; huggingface_hub and vLLM then download from it).",
    "network.mirror.modelscope": "Option: ModelScope: `pip install modelscope` and `export VLLM_USE_MODELSCOPE=True` "
                                 "(vLLM reads only true/false).",
    "network.note.wheelhouse": "Or fetch the big wheels once where the network is good, then install offline: "
                               "`{pip} download --dest ~/wheelhouse torch` there, copy ~/wheelhouse here, and "
                               "`{pip} install --no-index --find-links ~/wheelhouse torch`.",
    "network.evidence.pip-timeout": "pip timeout: {timeout} s",
    "index-url-invalid.title": "pip is told to use an index that is not a URL",
    "index-url-invalid.why": "pip parses its index settings before it downloads anything: with one it cannot parse, "
                             "every install stops with an error that names no package.",
    "index-url-invalid.note": "Correct or unset the setting named above (`pip config unset global.index-url`, or the "
                              "PIP_INDEX_URL / PIP_EXTRA_INDEX_URL variable); a URL is http(s)://host[:port]/path.",
    "proxy-invalid.title": "A proxy is set to something that is not a proxy URL",
    "proxy-invalid.why": "pip, requests and huggingface_hub refuse a malformed proxy before sending anything "
                         "(\"Port could not be cast to integer\", InvalidProxyURL), so every download fails.",
    "proxy-invalid.note": "Then set it again as scheme://[user:password@]host:port, e.g. "
                          "`export HTTPS_PROXY=http://proxy.example.com:3128`; percent-encode @ : / in a password.",
    "pip-config-invalid.title": "pip cannot read its configuration",
    "pip-config-invalid.why": "pip loads every configuration file before any command; one that is not valid INI makes "
                              "every pip command stop with a ConfigurationError, before it touches the network.",
    "pip-config-invalid.note": "Then write the settings again with `pip config set global.index-url URL`: a pip.conf "
                               "is a [global] header followed by `key = value` lines.",
    "uv-config-invalid.title": "uv cannot read its configuration",
    "uv-config-invalid.why": "uv reads uv.toml (and pyproject.toml's [tool.uv]) before any command; a file that is not "
                             "valid TOML makes every uv command stop with a parse error, before it touches the "
                             "network.",
    "uv-config-invalid.note": "Correct the file (TOML: `key = \"value\"`, tables as [[index]]), or run uv with "
                              "--no-config (UV_NO_CONFIG=1) to ignore it.",
    "condarc-invalid.title": "conda cannot read a .condarc",
    "condarc-invalid.why": "conda reads every .condarc before a command; one that is not valid YAML stops conda with a "
                           "parse error, and envdoctor cannot tell which channels it would use.",
    "condarc-invalid.note": "Then set the channels again with `conda config --add channels NAME`.",
    "ca-bundle-invalid.title": "A CA bundle setting points at a file that cannot be loaded",
    "ca-bundle-invalid.why": "pip and requests fail every HTTPS download when the bundle they are told to use is "
                             "missing or not PEM (\"Could not find a suitable TLS CA certificate bundle\").",
    "ca-bundle-invalid.note": "{ca} is the system bundle on Debian/Ubuntu (Fedora: /etc/pki/tls/certs/ca-bundle.crt).",
    "network.proxy.title": "The proxy {proxies} (from {sources}) {what}{every}",
    "network.proxy.every": ": every download through it fails ({count} places)",
    "network.proxy.note.correct": "Or correct it: `export HTTPS_PROXY=http://HOST:PORT` with the proxy your network "
                                  "really uses. If the proxy is an app (Clash, v2rayN, a VPN client), start it.",
    "network.proxy.note.wsl-loopback": "WSL 2 in its default NAT mode: 127.0.0.1 is the Linux VM itself, not Windows, "
                                       "so a proxy app on Windows is not there. Use the Windows host's address (`ip "
                                       "route show default | awk '{{print $3}}'`) and allow LAN connections in the "
                                       "proxy app, or set networkingMode=mirrored under [wsl2] in "
                                       "%UserProfile%\\.wslconfig, then run `wsl --shutdown` in Windows PowerShell.",
    "proxy-refused.what": "refuses the connection or the tunnel",
    "proxy-refused.why": "Nothing listens on the proxy's port, or it answers CONNECT with an error: every download "
                         "through it fails before it starts, and pip reports a ProxyError that looks like a broken "
                         "index. Unset the setting if no proxy is needed, or correct it.",
    "proxy-unresponsive.what": "does not answer",
    "proxy-unresponsive.why": "The proxy's host does not resolve, or it takes the connection and never answers: pip "
                              "waits for its timeout on every retry, then reports a ProxyError that looks like a "
                              "broken index. Unset the setting if no proxy is needed, or correct it.",
    "proxy-auth-required.title": "The proxy {proxy} (from {sources}) refuses to forward without credentials (407)",
    "proxy-auth-required.why": "A 407 means the proxy is reachable but wants you to log in; pip shows it as "
                               "\"407 Proxy Authentication Required\" or a tunnel error and gives up.",
    "proxy-auth-required.note.encode": "Percent-encode special characters in the password (@ is %40, : is %3A).",
    "proxy-auth-required.note.ntlm": "This proxy asks for NTLM/Negotiate (Windows domain) authentication, which pip "
                                     "and requests cannot do: run a local authenticating proxy (cntlm, or px on "
                                     "Windows) and point the variables at it, e.g. http://127.0.0.1:3128.",
    "proxy-auth-required.note.no-proxy": "If no proxy is needed here: {commands}.",
    "proxy-env-mismatch.title": "Proxy settings do not agree",
    "proxy-env-mismatch.why": "Each tool picks its proxy its own way (pip's own setting, requests' lowercase-first "
                              "variables, curl and wget's lowercase ones, NO_PROXY suffix matches); when they "
                              "disagree, one step of an install goes a different way than the step you tested.",
    "proxy-env-mismatch.evidence.differ": "{lower} and {upper} differ ({a} vs {b}): Python tools use {lower}, others "
                                          "may use {upper}",
    "proxy-env-mismatch.evidence.only-upper": "only {upper} is set: wget reads only {lower}{curl}",
    "proxy-env-mismatch.evidence.curl": ", and curl ignores an uppercase HTTP_PROXY",
    "proxy-env-mismatch.evidence.only-lower": "only {lower} is set: Python, curl and wget read it; set {upper} too so "
                                              "tools that read the uppercase name agree",
    "proxy-env-mismatch.evidence.http-only": "a proxy is set for http:// only: every https:// index and the model hub "
                                             "go direct",
    "proxy-env-mismatch.evidence.internal": "{host} ({label}) is an internal address, but NO_PROXY does not list it: "
                                            "the proxy is asked for it",
    "proxy-env-mismatch.evidence.no-proxy": "{match} sends {host} direct, and direct access fails: {detail}",
    "proxy-env-mismatch.evidence.pip-overridden": "pip {pip} lets {source} win over its own proxy ({pip_source}); pip "
                                                  "24.1 reversed that",
    "proxy-env-mismatch.evidence.pip-differs": "pip uses {proxy} ({source}) but other tools use {others}",
    "network.dns.servers": "Use your network's DNS server, or a public one: 1.1.1.1 (Cloudflare), 8.8.8.8 (Google), "
                           "223.5.5.5 (AliDNS, in mainland China).",
    "network.dns.note.wsl": "WSL 2 writes /etc/resolv.conf itself (generateResolvConf) and points it at a Windows-side "
                            "resolver that VPNs and firewalls often break; the commands stop that and set a server of "
                            "your choice. If /etc/wsl.conf already has a [network] section, put the line there "
                            "instead.",
    "network.dns.note.mirrored": "Or, on Windows 11 22H2 and later: in %UserProfile%\\.wslconfig under [wsl2] set "
                                 "networkingMode=mirrored and dnsTunneling=true, then `wsl --shutdown`{now}.",
    "network.dns.note.now": " (now: networkingMode={mode})",
    "network.dns.note.resolv": "If the lookup works against 1.1.1.1 but not by default, the configured DNS server is "
                               "the problem: fix /etc/resolv.conf (or your network manager's DNS setting).",
    "network.dns.evidence.generate-true": "true (WSL writes resolv.conf)",
    "dns-failure.configured-server": "the configured DNS server",
    "dns-failure.title.server": "The DNS server {server} (/etc/resolv.conf) resolves no name: {hosts}",
    "dns-failure.why.server": "Every lookup failed, so the DNS server (or the path to it) is the problem, not the "
                              "hosts: nothing can be downloaded until names resolve, and no mirror helps (its name "
                              "must resolve too).",
    "dns-failure.title": "DNS cannot resolve {hosts}",
    "dns-failure.why": "Nothing can be downloaded from a host whose name does not resolve; pip reports it as "
                       "\"Temporary failure in name resolution\" or NewConnectionError, which looks like a broken "
                       "index.",
    "dns-slow.title": "DNS takes over a second per name",
    "dns-slow.evidence": "{host}: resolved in {seconds} s",
    "dns-slow.why": "An install resolves several hosts (index, file host, PyTorch index, model hub) and resolves "
                    "again on every retry; a slow resolver makes each look like a stalled download.",
    "tcp-blocked.title": "Connections to {hosts} do not get through",
    "tcp-blocked.why": "DNS works but the TCP connection is refused, times out or is reset: something on the path "
                       "drops it. pip waits for its timeout and retries, so an install hangs before failing.",
    "tcp-blocked.note.firewall": "A firewall, the ISP or a captive portal blocks the host; if your network needs a "
                                 "proxy, set it: `export HTTPS_PROXY=http://HOST:PORT HTTP_PROXY=http://HOST:PORT`.",
    "tcp-blocked.note.ipv6": "The host has only IPv6 addresses and this machine cannot reach IPv6: use a mirror with "
                             "an IPv4 address, or enable IPv6 on this network.",
    "tls-intercepted.title": "HTTPS certificates are not trusted{issuer}",
    "tls-intercepted.title.issuer": ": issued by {issuer}",
    "tls-intercepted.evidence.issuer": "{host} presented a certificate issued by: {issuer}",
    "tls-intercepted.evidence.bundle": "CA bundle used for {host}: {bundle} ({source})",
    "tls-intercepted.why": "The certificate presented for these hosts was not issued by a CA in the bundle the tools "
                           "use. On a company network that is almost always a TLS-inspecting proxy or firewall that "
                           "re-signs HTTPS with the company's own root CA; trust that CA, once, for every tool.",
    "tls-intercepted.note.mismatch": "The certificate is for another host name: a captive portal (log in through a "
                                     "browser), a hijacked DNS answer, or a mirror URL with the wrong host.",
    "tls-intercepted.note.expired": "A certificate has expired: the server's operator must renew it; check this "
                                    "machine's clock too (`date`), a wrong clock makes valid certificates look "
                                    "expired.",
    "tls-intercepted.note.root-ca": "company-root-ca.crt is the root (top) certificate of the chain: ask IT for it, or "
                                    "export it from your browser's certificate viewer for any HTTPS site. Fedora/RHEL: "
                                    "copy it to /etc/pki/ca-trust/source/anchors/ and run `sudo update-ca-trust`.",
    "tls-intercepted.note.never-off": "Never turn verification off (--trusted-host, verify=False): that trusts anyone "
                                      "in the middle, not only your company.",
    "tls-intercepted.note.self-signed": "If the issuer is the server itself (a self-signed mirror), ask its operator "
                                        "for a proper certificate, or trust that certificate the same way.",
    "http-forbidden.title": "Requests are refused (401/403) by {hosts}",
    "http-forbidden.why": "The server (or the proxy in front of it) answered but refused: missing or wrong "
                          "credentials for a private index, a proxy policy that blocks the host, or a region block.",
    "http-forbidden.note.proxy": "A proxy sits in between: ask its administrators to allow these hosts.",
    "http-forbidden.note.private": "For a private index, put the credentials in the URL "
                                   "(https://USER:TOKEN@host/simple) or in keyring/.netrc; envdoctor never prints "
                                   "them.",
    "index-unreachable.title": "A package index cannot be used: {hosts}",
    "index-unreachable.why": "pip needs a working simple index for every package it resolves; one that errors or "
                             "stays silent makes the install fail or hang until pip's timeout.",
    "index-unreachable.note.404": "404: the URL is not a simple index: pip's index-url usually ends in /simple "
                                  "(`pip config list` shows where it is set).",
    "index-unreachable.note.5xx": "5xx: the server (or a mirror's upstream) is failing; retry later or use another "
                                  "index.",
    "index-unreachable.note.silent": "The server accepted the connection but never answered: a dead server, or a "
                                     "firewall that lets the connection open and then drops everything.",
    "index-unreachable.note.local": "A find-links or file:// index points at a path that does not exist: pip skips it "
                                    "with a warning and the packages you put there are not found.",
    "hf-endpoint-unreachable.title": "Models cannot be downloaded: {urls} is unreachable",
    "hf-endpoint-unreachable.why": "vLLM downloads weights and tokenizer from the hub at start-up; it then fails with "
                                   "a connection error or hangs, after the install itself succeeded.",
    "hf-endpoint-unreachable.note.offline": "Or download the model where the hub is reachable, copy "
                                            "~/.cache/huggingface/hub here, and `export HF_HUB_OFFLINE=1`.",
    "download-slow.check.title": "Downloads run at {rate}: a torch wheel takes {time}",
    "download-slow.evidence": "{label} {url}: {rate} from {host} over {size} in {seconds} s: a {mb} MB torch wheel "
                              "would take {time}",
    "download-slow.check.why": "The longer one file takes, the likelier a hiccup breaks it; without resumption pip "
                               "starts that wheel over, and a build that downloads it again and again can hang for "
                               "hours.",
    "download-slow.note.speed": "`envdoctor check --speed` measures with a larger sample (up to 32 MiB per host).",
    "download-stalled.check.title": "Downloads stall: {hosts}",
    "download-stalled.default-timeout": "15 (the default)",
    "download-stalled.check.why": "The server or the path stopped sending in the middle of a file. pip waits "
                                  "{timeout} s of silence, then fails the whole install (\"Read timed out\", the "
                                  "first user's torch wheel at 658/797 MB) unless it can resume (pip >= 25.1 with "
                                  "--resume-retries; on by default from 25.2).",
}
