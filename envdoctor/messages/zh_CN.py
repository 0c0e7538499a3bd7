"""简体中文消息，按 id 排列。占位符 {name} 与 en.py 中的英文原文一一对应；命令、版本号、路径和代码
作为参数原样填入，从不翻译。术语取自 vLLM / PyTorch 中文社区的常用说法：显存、驱动、算力（compute
capability）、镜像源、代理、虚拟环境、预编译包（wheel）。"""

ZH = {
    "sep.list": "；",
    # --- 模型能否装下（check --model；fit 的说明） ----------------------------------------
    "model.evidence.gpu": "GPU 0：{gpu}，显存共 {total}，空闲 {free}",
    "model.evidence.gpu.wsl": "GPU 0：{gpu}，显存共 {total}，空闲 {free}（WSL 下 Windows 桌面也在用这张卡）",
    "model.evidence.free-not-measured": "未测到",
    "model.evidence.model": "{model}：权重 {weights}，每个 token 的 KV 缓存 {kv_per_token:,} B，上下文长度 {context:,}",
    "model.evidence.defaults": "按 vLLM 默认参数：预留 {requested}，留给 KV 缓存 {kv}（{tokens:,} 个 token）",
    "model.note.prove": "实际跑一次生成来验证：{command}",
    "model.note.arithmetic": "详细计算过程见 `envdoctor fit MODEL -v`。",
    "model-not-found.title": "无法估算 {model} 的显存：本机上没有它的 config.json",
    "model-not-found.why": "envdoctor 不联网读取模型的 config.json（层数、注意力头数、词表大小），来源依次是本地目录、"
                           "Hugging Face 缓存和自带的模型目录。",
    "model-not-found.hub-cache": "Hugging Face 缓存",
    "model-not-found.note.dir": "{query}：没有 {query} 这个目录。请传入一个含 config.json 的本地目录（例如先运行 "
                                "{download}），或者用模型目录里的模型（{catalog}）{close}",
    "model-not-found.note.repo": "{query}：Hugging Face 缓存（{hub}）里没有，envdoctor 的模型目录里也没有。请传入一个"
                                 "含 config.json 的本地目录（例如先运行 {download}），或者用模型目录里的模型（"
                                 "{catalog}）{close}",
    "model-not-found.close": "。你要找的是不是：{names}？",
    "model-not-found.end": "。",
    "model-no-gpu.title": "无法估算 {model} 的显存：没有检测到 GPU",
    "model-no-gpu.why": "模型能不能装下取决于 GPU 的显存，而本机没有读到 NVIDIA GPU：所以结论是未知，不是没问题。",
    "model-no-gpu.note": "也可以直接给出显存大小（--vram GB），或者在有 GPU 的机器上运行 envdoctor。",
    "model-does-not-fit.title": "{model} 在 {gpu} 上显存不够",
    "model-does-not-fit.why": "vLLM 启动时按 gpu_memory_utilization × 总显存预留显存，权重、profile 运行的激活值，以及"
                              "至少一个满长度请求的 KV 缓存都得放进这部分里；这里光是权重就占得差不多了，剩下的不够用"
                              "。",
    "model-does-not-fit.note.alternative": "{model}（{method}，{bits} bit 量化）权重只有 {weights}，用上面的参数可以装"
                                           "下。",
    "model-does-not-fit.note.no-alternative": "envdoctor 模型目录里已发布的量化版本都装不下：请换更小的模型，或者换显"
                                              "存更大的 GPU。",
    "model-does-not-fit.title.blocked": "{model} 无法在 {gpu} 上运行：{blocker}",
    "model-does-not-fit.why.blocked": "vLLM 的算子只针对一定范围的算力（compute capability）编译；低于这个范围 vLLM 根"
                                      "本起不来，和显存大小无关。",
    "model-does-not-fit.note.blocked": "需要架构更新的 GPU（或者换一个仍支持这张卡的旧版 vLLM：envdoctor fix --plan）"
                                       "。",
    "model-fits-with-settings.title": "{model} 在 {gpu} 上只有改参数才能装下",
    "model-fits-with-settings.why": "用 vLLM 的默认参数，它要么启动时就失败，要么 KV 缓存不够：默认参数是按显存宽裕的"
                                    "卡设定的。",
    "kv-cache-too-small-for-context.title": "{model} 在 {gpu} 上：请把 max_model_len 设为 {tokens:,}",
    "kv-cache-too-small-for-context.why": "上下文里每个 token 都要占 KV 缓存（2 × 层数 × kv_heads × head_dim × 2 字节"
                                          "）；权重放下之后剩余的显存，装不下模型的最大上下文长度。",
    "kv-cache-too-small-for-context.note.refuses": "如果 max_model_len（这里默认是 {default:,}）需要的 KV 缓存超过剩余"
                                                   "显存，vLLM 会拒绝启动；目前能放下 {tokens:,} 个 token。",
    "kv-cache-too-small-for-context.note.alternative": "或者换成 {model}，可以保留 {tokens:,} 个 token 的上下文："
                                                       "{command}",
    "fit.note.no-bf16": "算力 {cc} 不支持 bfloat16：vLLM 需要加 --dtype half（显存占用相同）",
    "fit.note.v0": "vLLM {vllm} 使用 V0 引擎（vllm/worker/worker.py，determine_num_available_blocks）：它的 profile 运"
                   "行会一次把 max_model_len 个 token 送进模型（{used}），而不是 max_num_batched_tokens",
    "fit.note.v0.used": "按 vLLM 默认参数为 {default:,} 个 token",
    "fit.note.v0.used-chosen": "按 vLLM 默认参数为 {default:,} 个 token，按建议的参数为 {chosen:,} 个",
    "fit.note.current-vllm": "按当前版本的 vLLM 估算（V1 引擎，gpu_memory_utilization {util}）；旧版本请传 --vllm VERS"
                             "ION",
    "fit.note.tensor-parallel": "按单卡计算，共 {tp} 张同样的卡：每张卡放 1/{tp} 的权重，以及 {all_kv_heads} 个 KV 头"
                                "中的 {kv_heads} 个",
    "fit.blocker.tp-heads": "{heads} 个注意力头不能被 --tensor-parallel-size {tp} 整除：vLLM 会拒绝启动",
    "fit.blocker.cc": "{vllm} 不支持算力 {cc}（最低 {min_cc}）：它的 wheel 里没有 {gpu} 可用的算子",
    "fit.blocker.quant-cc": "vLLM 的 {method} 算子需要算力 {floor} 或更高；{gpu} 的算力是 {cc}",
    # --- run-smoke 自己的结论 -------------------------------------------------------------
    "smoke.phase.interpreter": "启动解释器",
    "smoke.phase.import": "导入 vllm",
    "smoke.phase.engine-init": "引擎初始化（加载权重、显存 profiling、分配 KV 缓存）",
    "smoke.phase.first-token": "生成首个 token",
    "smoke.phase.generation": "生成",
    "smoke.phase.shutdown": "退出",
    "smoke.phase.unknown": "未知阶段",
    "smoke.hint.import": "导入 vLLM 要读上千个文件：在 WSL 2 下从 Windows 盘（/mnt/c）读取要花好几分钟。请把环境放在 L"
                         "inux 文件系统里（~/）。",
    "smoke.hint.engine-init": "引擎启动时会加载（或下载）权重、编译算子并做显存 profiling。",
    "smoke.evidence.log": "完整日志：{path}",
    "smoke.evidence.no-output": "{seconds} 秒内没有任何数据和输出",
    "smoke.why.killed": "子进程已连同整个进程组一起被杀掉，不会再占用显存。",
    "smoke.note.explain-again": "`envdoctor explain {path}` 可以重新分析这份日志。",
    "smoke.download-stalled.title": "{file} 下载卡在 {percent} %（{done} / {size}）",
    "smoke.download-stalled.why": "从 Hugging Face Hub 下载模型时没有进度了：这是网络卡住，不是环境本身的问题。没有看"
                                  "门狗的话，它会一直等上几个小时。",
    "smoke.download-stalled.note": "先单独下载模型（会从中断处续传），再用 --model 指向本地目录运行 run-smoke；或者把 "
                                   "HF_ENDPOINT 设为更近的镜像源。`envdoctor check --only network` 可以测一下到 Hub 的"
                                   "网络。",
    "smoke-stalled.title": "生成在“{phase}”阶段 {seconds} 秒没有任何进展（没有输出，显存也没变化）",
    "smoke-timed-out.title": "生成在“{phase}”阶段 {seconds} 秒内没有完成",
    "smoke-failed.title": "vLLM 在“{phase}”阶段失败",
    "smoke-failed.evidence.no-result": "子进程退出码为 {code}，没有返回结果",
    "smoke-failed.why": "生成没有完成，也没有匹配到已知的错误特征；原因要看日志的最后几行。",
    "smoke-failed.note.inferred": "{reading}（explain 的推断，置信度较低）。",
    "smoke-failed.note.explain": "`envdoctor explain {path}` 会列出最像错误的几行。",
    "vllm-not-installed.title": "{python} 里没有安装 vLLM",
    "vllm-not-installed.evidence": "{python} 的环境里没有 vllm 包",
    "vllm-not-installed.why": "run-smoke 要在目标解释器里运行 vLLM，而那里没有 vLLM。",
    "vllm-not-installed.note": "`envdoctor fix --plan` 会给出适合这台机器、验证过的安装方法；用 `--python PATH` 可以让"
                               " run-smoke 换用别的环境。",
    # --- check --from-report 自己的结论 ---------------------------------------------------
    "report.evidence.printed": "报告第 {line} 行打印了：{text}",
    "torch-cpu-build-on-gpu-machine.report.title": "torch {torch} 是 CPU 版本：不管这台机器有没有 GPU，它都用不上",
    "torch-cpu-build-on-gpu-machine.report.why": "CPU 版的 torch 不带 CUDA，所以 `torch.cuda.is_available()` 为 False"
                                                 "，即使机器上有 NVIDIA GPU，collect_env 也会把 GPU、驱动和 cuDNN 都显"
                                                 "示成 \"No CUDA\"。vLLM 的 CUDA 版本需要 CUDA 版的 torch。",
    "torch-cpu-build-on-gpu-machine.report.note": "`nvidia-smi` 可以确认有没有 GPU、驱动支持哪个 CUDA 版本；`envdoctor"
                                                  " fix --plan` 会选出匹配的 torch 版本。",
    "gpu-arch-unsupported-by-extension.title": "{extension} 是针对 {archs} 编译的，不支持 {gpu}（算力 {cc}）",
    "gpu-arch-unsupported-by-extension.why": "CUDA 扩展只带有它编译时指定架构的算子（SASS 可在同一大架构、次版本相同"
                                             "或更高的 GPU 上运行，PTX 可在更新的 GPU 上 JIT 编译）；没有适合这张 GPU "
                                             "的代码时，它的每个算子都会报 'no kernel image is available for execution "
                                             "on the device'，与 torch 本身支持什么无关。",
    "gpu-arch-unsupported-by-extension.note": "在这台机器上重新编译这个扩展（编译时会针对它看到的 GPU，或 "
                                              "TORCH_CUDA_ARCH_LIST 指定的架构），或者安装列出了这个架构的预编译版本。",
    "wsl-multi-gpu.title": "WSL 2 下有 {count} 张 GPU：在 WSL 2 里跑多卡并不稳定",
    "wsl-multi-gpu.why": "张量并行依赖 NCCL，NCCL 通过共享内存和 P2P 通道在卡之间通信，而 WSL 2 的虚拟 GPU 对这些支持"
                         "不完整：NCCL 2.10 之前根本不支持 WSL 2，WSL 2 下多卡报 NCCL 错误的问题至今仍未解决（microsof"
                         "t/WSL#12467）。",
    "wsl-multi-gpu.note": "先用 --tensor-parallel-size 1 确认单卡能跑通；再试试 NCCL_P2P_DISABLE=1 并调大 /dev/shm，或"
                          "者把多卡任务放到原生 Linux 上跑。",
    "wsl-pin-memory-off.title": "WSL 2：vLLM 默认不使用锁页内存（pinned memory），因此 UVA 和 CPU offload 默认不可用",
    "wsl-pin-memory-off.why": "WSL 2 下锁页内存受限（NVIDIA《CUDA on WSL》指南中列出的已知限制），所以 vLLM 在 WSL 2 "
                              "下关掉了它；UVA 依赖锁页内存。主机与显卡之间的拷贝会变慢；--cpu-offload-gb 也需要锁页内"
                              "存。",
    "wsl-pin-memory-off.note": "vLLM 0.24 及以后：设置 VLLM_WSL2_ENABLE_PIN_MEMORY=1 可以打开（需要内核 4.19.121 及以"
                               "后）。",
    "no-nvidia-gpu.report.macos.title": "macOS 没有 NVIDIA 驱动：CUDA 和 vLLM 的 CUDA 版本都跑不了",
    "no-nvidia-gpu.report.macos.why": "CUDA 10.2 是最后一个支持 macOS 的 CUDA 工具包和驱动版本（见 NVIDIA CUDA 10.2 发"
                                      "布说明）；Mac 上的 torch 是 CPU/MPS 版本。",
    "no-nvidia-gpu.report.macos.note": "请在带 NVIDIA GPU 的 Linux 机器（或 WSL 2）上运行 vLLM，或者改用 CPU / Apple S"
                                       "ilicon 后端。",
    # --- 共用的证据行 -------------------------------------------------------------------
    "evidence.platform": "平台：{platform}",
    "evidence.kernel": "内核：{kernel}",
    "evidence.interpreter": "解释器：{python}（Python {version}，由 {selected_by} 选中）",
    "evidence.prefix": "前缀（prefix）：{prefix}",
    "evidence.not-found": "{path}：未找到",
    "evidence.present": "已存在：{paths}",
    "evidence.packages": "软件包：{packages}",
    "evidence.gpu-cc": "GPU {index}：{name}，算力 {cc}",
    "evidence.installed": "已安装：{what}",
    # --- 平台 ---------------------------------------------------------------------------
    "native-windows-unsupported.title": "vLLM 不能在原生 Windows 上运行",
    "native-windows-unsupported.why": "vLLM 只支持 Linux；在 Windows 上要跑在 WSL 2 里，WSL 2 通过 Windows 的 "
                                      "NVIDIA 驱动使用 GPU。",
    "native-windows-unsupported.note.install": "在管理员 PowerShell 中运行上面的命令，重启后打开 Ubuntu，再在里面"
                                               "安装并运行 envdoctor。",
    "native-windows-unsupported.note.driver": "只保留 Windows 上的 NVIDIA 驱动：千万不要在 WSL 里再装 Linux 驱动。",
    "wsl1-no-gpu.title": "{distro} 运行在 WSL 1 下，WSL 1 没有 CUDA",
    "wsl1-no-gpu.why": "WSL 上的 CUDA 只支持 WSL 2（见 NVIDIA《CUDA on WSL User Guide》）。",
    "wsl1-no-gpu.note": "这些命令要在 Windows PowerShell 里运行，不是在发行版内部；运行完重新打开发行版。",
    "installing-into-system-python.title": "{python} 是{what}，不是虚拟环境",
    "installing-into-system-python.what.pyenv": " pyenv 的基础解释器",
    "installing-into-system-python.what.system": "系统自带的 Python",
    "installing-into-system-python.what.base": "一个基础解释器",
    "installing-into-system-python.collide.pyenv": "所有使用这个 pyenv 版本的其他项目",
    "installing-into-system-python.collide.system": "发行版自带的软件包",
    "installing-into-system-python.collide.base": "里面已经装好的其他所有东西",
    "installing-into-system-python.why": "vLLM 精确锁定 torch 版本，还会拉进几十个依赖包；装进基础解释器，它们会和"
                                         "{collide}冲突。",
    "installing-into-system-python.note.fresh": "新建的虚拟环境几分钟就能删掉重建；系统 Python 一旦弄坏就没法这样"
                                                "恢复，升级其中的包还可能弄坏操作系统自己的工具。",
    "installing-into-system-python.note.pep668": "这个 Python 标记了 EXTERNALLY-MANAGED（PEP 668）：不加 "
                                                 "--break-system-packages，pip 会拒绝往里装包。不要加这个参数。",
    "installing-into-system-python.note.selected": "envdoctor 检查的是 {python}，因为它是 {selected_by}。要改为"
                                                   "检查某个虚拟环境：`envdoctor check --python .venv/bin/python`"
                                                   "（或者先 `source .venv/bin/activate`）。",
    "installing-into-system-python.note.venv-package": "Debian/Ubuntu 上如果缺 venv 模块，先运行 "
                                                       "`sudo apt install python3-venv`。",
    # --- WSL ----------------------------------------------------------------------------
    "wsl-libcuda-missing.title": "{lib} 中没有 libcuda.so：WSL 2 看不到 NVIDIA 驱动",
    "wsl-libcuda-missing.why": "在 WSL 2 下，CUDA 由 Windows 的 NVIDIA 驱动提供：驱动把自己的 libcuda.so 映射到 "
                               "{lib}。没有它，Linux 里的任何程序都用不了 GPU。",
    "wsl-libcuda-missing.note.driver": "在 Windows 上为你的 GPU 安装最新的 NVIDIA 驱动（GeForce Game Ready/Studio "
                                       "驱动或笔记本驱动），然后在 Windows PowerShell 中运行上面的命令，再重新打开发行"
                                       "版。",
    "wsl-libcuda-missing.note.wslconf": "如果 /etc/wsl.conf 里有 `[gpu] enabled=false`，删掉这一行。",
    "wsl-libcuda-not-on-loader-path.title": "{lib} 不在动态链接器的搜索路径中：libcuda.so.1 无法加载",
    "wsl-libcuda-not-on-loader-path.evidence.ldconfig": "`ldconfig -p` 中没有 libcuda.so.1，LD_LIBRARY_PATH 也"
                                                        "没有包含它",
    "wsl-libcuda-not-on-loader-path.why": "torch 和 vLLM 通过 dlopen 加载 libcuda.so.1；WSL 正常情况下会在 "
                                          "/etc/ld.so.conf.d/ld.wsl.conf 中登记这个目录。这个文件没了，CUDA 就会报告"
                                          "找不到设备。",
    "wsl-linux-driver-installed.title": "WSL 2 里装了 Linux 版 NVIDIA 驱动",
    "wsl-linux-driver-installed.evidence.libcuda": "Linux 版 libcuda：{paths}",
    "wsl-linux-driver-installed.evidence.loader": "动态链接器把 libcuda.so.1 解析到 {path}（{source}）",
    "wsl-linux-driver-installed.evidence.proc": "/proc/driver/nvidia 存在（加载过 Linux 内核驱动）",
    "wsl-linux-driver-installed.why": "NVIDIA 官方说明：Windows 驱动以 libcuda.so 的形式映射进 WSL 2，"
                                      "\"therefore users must not install any NVIDIA GPU Linux driver within WSL 2\""
                                      "（因此不要在 WSL 2 里安装任何 Linux 版 NVIDIA 驱动）。Linux 驱动的 libcuda.so "
                                      "会盖住这个映射，导致 CUDA 初始化失败。通用的 cuda / cuda-toolkit 软件包会顺带"
                                      "装上一个。",
    "wsl-linux-driver-installed.note.shutdown": "`wsl --shutdown` 要在 Windows PowerShell 中运行。如果确实需要 "
                                                "CUDA 工具包，只装 WSL-Ubuntu 的 `cuda-toolkit-X-Y` 包，不要装 "
                                                "`cuda` 或 `cuda-drivers`。",
    "wsl-linux-driver-installed.note.dpkg": "`dpkg -S` 会列出拥有这个文件的软件包：卸载（purge）那个包。",
    # --- 驱动与 GPU ---------------------------------------------------------------------
    "evidence.driver-supports": "驱动 {driver} 最高支持 CUDA {cuda}",
    "evidence.torch-built-for": "torch {torch} 是基于 CUDA {cuda} 构建的",
    "evidence.vllm-built-for": "vllm {vllm} 的算子是基于 CUDA {cuda} 编译的",
    "evidence.minor-compat": "CUDA {major}.x 可在 >= {driver} 的驱动上运行（小版本兼容）",
    "evidence.vllm-problem": "vllm {vllm} {problem}",
    "no-nvidia-gpu.title": "看不到 NVIDIA GPU",
    "no-nvidia-gpu.evidence.no-gpu": "驱动没有报告任何 GPU",
    "no-nvidia-gpu.why": "vLLM 的默认版本通过 NVIDIA 驱动在 NVIDIA GPU 上运行；没有 GPU 就无法启动（vLLM 也有 CPU "
                         "版本，但那是另一种安装方式）。",
    "no-nvidia-gpu.note.wsl": "WSL 2 下只需在 Windows 上安装 NVIDIA 驱动，Linux 里什么都不用装。",
    "no-nvidia-gpu.note.ubuntu": "Ubuntu 上用 `sudo ubuntu-drivers install` 安装推荐的驱动，装完重启。",
    "no-nvidia-gpu.note.container": "在容器里的话，用 `--gpus all` 启动容器（需要 NVIDIA Container Toolkit）。",
    "nvidia-driver-unreadable.title": "读取不到 NVIDIA 驱动的信息（{reason}）",
    "nvidia-driver-unreadable.reason.not-loaded": "驱动未加载",
    "nvidia-driver-unreadable.reason.timed-out": "超时",
    "nvidia-driver-unreadable.reason.garbage": "输出无法解析",
    "nvidia-driver-unreadable.reason.library-missing": "缺少驱动库",
    "nvidia-driver-unreadable.reason.failed": "查询失败",
    "nvidia-driver-unreadable.why.not-loaded": "用户态工具已经装好，但内核驱动没有运行（常见原因：更新驱动后没有"
                                               "重启、Secure Boot 拒绝加载未签名的内核模块，或者驱动库与内核驱动版本"
                                               "不一致）。",
    "nvidia-driver-unreadable.why.timed-out": "驱动没有及时响应：GPU 卡死，或者驱动在内核里卡住了。vLLM 也会同样卡住。",
    "nvidia-driver-unreadable.why.garbage": "nvidia-smi 输出的不是它正常的格式：可能是被包装脚本替换了、安装损坏，"
                                            "或者驱动版本不匹配。",
    "nvidia-driver-unreadable.why.library-missing": "无法加载驱动的用户态库（libnvidia-ml.so.1）：动态链接器不知道它"
                                                    "在哪里。",
    "nvidia-driver-unreadable.why.failed": "查询驱动失败。",
    "nvidia-driver-unreadable.note.wsl": "在 Windows 上更新 NVIDIA 驱动，在 PowerShell 中运行 `wsl --shutdown`，"
                                         "再重新打开发行版。",
    "nvidia-driver-unreadable.note.reboot": "安装或更新驱动后要重启。如果开了 Secure Boot，需要登记（enroll）驱动的 "
                                            "MOK 密钥，或者改用发行版提供的已签名驱动包。",
    "driver-too-old-for-torch.title": "驱动 {driver} 太旧，跑不了{what}",
    "driver-too-old-for-torch.title.compat": "驱动 {driver} 只能通过小版本兼容运行{what}",
    "driver-too-old-for-torch.why.compat": "驱动比 CUDA {cuda} 自己要求的最低版本（{native}）旧，只能靠 NVIDIA 的小版本"
                                           "兼容运行，功能受限：新编译器生成的 PTX 无法 JIT 编译，运行时才编译的算子"
                                           "（vLLM 用的 Triton）可能报 'the provided PTX was compiled with an "
                                           "unsupported toolchain'。",
    "driver-too-old-for-torch.what.torch": "基于 CUDA {cuda} 构建的 torch",
    "driver-too-old-for-torch.what.vllm": " vllm {vllm} 的算子（CUDA {cuda}）",
    "driver-too-old-for-torch.why": "CUDA 程序只能在支持对应 CUDA 版本的驱动上运行（同一个大版本内，驱动版本高于"
                                    "小版本兼容的下限也可以）。否则 torch.cuda.is_available() 返回 False，vLLM 启动"
                                    "失败。",
    "driver-too-old-for-torch.note.update": "把 NVIDIA 驱动升级到 {need} 或更新的版本{native}。",
    "driver-too-old-for-torch.note.update.wsl": "在 Windows 上把 NVIDIA 驱动升级到 {need} 或更新的版本{native}"
                                                "（WSL 用的是 Windows 的驱动）。",
    "driver-too-old-for-torch.newer": "更新的版本",
    "driver-too-old-for-torch.native": "（{driver} 及以上可原生运行 CUDA {cuda}）",
    "driver-too-old-for-torch.note.other-build": "或者保留当前驱动，改装同一版本 torch 的 {build} 构建（见上面的"
                                                 "命令）。",
    "driver-too-old-for-torch.note.vllm": "vllm {vllm} 编译好的算子需要它对应的 CUDA 构建：应该升级驱动，而不是换 "
                                          "torch 的构建（或者用 `envdoctor fix --plan` 找一套这个驱动能跑的组合）。",
    "gpu-compute-capability-too-low.title": "vllm {vllm} 要求算力 >= {cc}",
    "gpu-compute-capability-too-low.why": "vLLM 的算子只针对算力 {cc} 及以上编译（见它的安装文档和 CMakeLists 中的 "
                                          "CUDA_SUPPORTED_ARCHS）。",
    "gpu-compute-capability-too-low.note.older": "vllm {vllm} 是支持算力 {cc} 的最新版本。",
    "gpu-compute-capability-too-low.note.none": "没有任何 vLLM 版本支持这块 GPU；请换一块算力 {cc} 及以上的 GPU，"
                                                "或者改用 CPU 或其他后端。",
    "vllm-kernels-missing-for-gpu.title": "vllm {vllm} 没有适用于这块 GPU 的算子",
    "vllm-kernels-missing-for-gpu.why": "vLLM 的 CUDA 算子只针对一组架构编译（CMakeLists 中的 CUDA_SUPPORTED_ARCHS），"
                                        "并受限于所用 CUDA 能编译的范围：Blackwell（10.x、12.x）需要 CUDA >= 12.8 "
                                        "的构建。否则会报错 \"no kernel image is available for execution on the "
                                        "device\"。",
    "vllm-kernels-missing-for-gpu.note": "`envdoctor fix --plan` 会挑一个带有这块 GPU 算子的版本。",
    "mixed-gpu-architectures.title": "同一台机器上有算力不同的 GPU（{kinds}）：请只给 vLLM 同一种 GPU",
    "mixed-gpu-architectures.why": "vLLM 按第一块 GPU 的算力选择注意力后端、dtype 和内核；"
                                   "同一引擎里算力不同的 GPU 可能缺少它们"
                                   "（算力 8.0 以下没有 bfloat16 和 FlashAttention），"
                                   "张量并行的速度也由最慢的 GPU 决定。",
    "mixed-gpu-architectures.note": "要用上所有 GPU，就按最旧的那块（算力 {cc}）运行引擎："
                                    "--dtype half，不用 FP8 或只有 FlashAttention 才支持的选项。",
    "mixed-gpu-architectures.order": "上面的 GPU 编号是 nvidia-smi 的（按 PCI 总线顺序）；"
                                     "不设 CUDA_DEVICE_ORDER=PCI_BUS_ID 时 CUDA 按最快优先编号，所以两个变量都要设。",
    "bf16-unsupported.title": "这块 GPU 不支持 bfloat16，模型不能原样运行：请加 dtype=half",
    "bf16-unsupported.why": "bfloat16 需要算力 8.0。现在大多数模型（Qwen2、Llama 3 等）以 bfloat16 发布，vLLM 的 "
                            "dtype=auto 会选它，然后报错退出：\"Bfloat16 is only supported on GPUs with compute "
                            "capability of at least 8.0\"。",
    "bf16-unsupported.note": "在 Python 中：LLM(model=..., dtype=\"half\")。",
    "gpu-memory-in-use.title": "显存已被其他进程占用",
    "gpu-memory-in-use.evidence.gpu": "GPU {index}：已用 {used} MiB / 共 {total} MiB，空闲 {free} MiB",
    "gpu-memory-in-use.why": "vLLM 按 gpu_memory_utilization（默认 0.9）预留整张卡总显存的这一比例，空闲显存不够"
                             "时启动就会失败。",
    "gpu-memory-in-use.why.wsl": "vLLM 按 gpu_memory_utilization（默认 0.9）预留整张卡总显存的这一比例，空闲显存"
                                 "不够时启动就会失败。在 WSL 下 Windows 桌面和你共用这张卡，它占用的显存不会列出来。",
    "gpu-memory-in-use.note.stop": "或者先结束上面列出的进程。",
    "gpu-memory-in-use.note.close": "或者先关掉占用显存的程序（`nvidia-smi` 会列出来）。",
    "gpu-memory-in-use.note.close.wsl": "或者先关掉占用显存的程序：在 WSL 下就是 Windows 上的应用（任务管理器 → "
                                        "性能 → GPU 里能看到它们占用的专用显存）。",
    # --- torch --------------------------------------------------------------------------
    "torch-cpu-build-on-gpu-machine.title": "torch {torch} 是纯 CPU 版本",
    "torch-cpu-build-on-gpu-machine.evidence.torch": "torch {torch}：torch/version.py 中没有 CUDA",
    "torch-cpu-build-on-gpu-machine.evidence.gpu": "GPU：{gpu}，驱动 {driver}",
    "torch-cpu-build-on-gpu-machine.why": "CPU 版的 torch 用不了 GPU，vLLM 的 CUDA 算子也无法在它上面加载。它通常来自 "
                                          "CPU 的 wheel 源、`+cpu` 版本锁定，或者安装时回退到了 CPU 版。",
    "torch-cpu-build-on-gpu-machine.note": "安装你的 vLLM 版本锁定的那个 CUDA 版 torch（见 `envdoctor fix --plan`）。",
    "torch-arch-missing-for-gpu.title": "torch 没有适用于 {gpu}（{sm}）的算子",
    "torch-arch-missing-for-gpu.evidence.gpu": "GPU {index}：{name}，算力 {cc}（{sm}）",
    "torch-arch-missing-for-gpu.evidence.archs": "torch {torch} 支持：{archs}（来自 {where}）",
    "torch-arch-missing-for-gpu.why": "只有当构建里带有这块 GPU 架构的机器码（或者驱动能即时编译的较老架构的 PTX）时，"
                                      "GPU 代码才能运行。否则每个算子都会报错 \"no kernel image is available for "
                                      "execution on the device\"。",
    "torch-arch-missing-for-gpu.note": "在 envdoctor 的数据中，torch {torch}（{build}）是最早带有 {sm} 算子的版本；"
                                       "请选一个锁定的 torch 不低于这个版本的 vLLM（`envdoctor fix --plan`）。",
    "torch-cuda-init-failed.title": "torch 无法使用 CUDA",
    "torch-cuda-init-failed.why": "vLLM 启动时也会遇到这个错误。报错信息指出了原因：驱动太旧、缺少 libcuda（WSL）、"
                                  "GPU 没有匹配的算子，或者 CUDA_VISIBLE_DEVICES 把 GPU 屏蔽了。",
    "torch-cuda-init-failed.note": "上面的其他检查结果给出了最可能的原因；先解决它们，再运行一次这条命令。",
    "vllm-torch-mismatch.title": "vllm {vllm} 需要 torch{spec}，实际是 {found}",
    "vllm-torch-mismatch.no-torch": "没有安装 torch",
    "vllm-torch-mismatch.why": "vLLM 编译好的扩展（vllm/_C.abi3.so）链接的是某一个确定版本的 torch；换成其他任何"
                               "版本，导入时都会报 \"undefined symbol\"。",
    "vllm-torch-mismatch.note.together": "两者一起安装，pip 就不会再把 torch 换掉：`pip install vllm=={vllm} "
                                         "torch{spec}`。",
    "vllm-torch-mismatch.note.fresh": "如果坏掉的不止这一处，新建一个环境更快：`envdoctor fix --plan`。",
    # --- 软件包 -------------------------------------------------------------------------
    "evidence.more": "……还有 {count} 条",
    "missing-requirements.title": "有 {count} 个声明的依赖没有满足",
    "missing-requirements.evidence.missing": "{who} 需要 {req}：未安装",
    "missing-requirements.evidence.found": "{who} 需要 {req}：实际是 {have}",
    "missing-requirements.why": "缺少依赖的包会在 import 时报错，而且一次只报一个：这就是\"教程漏写了一个包\"的问题。"
                                "pip 只检查它自己这次安装的包。",
    "missing-requirements.note.conflicts": "存在版本冲突：装好一边可能弄坏另一边。先运行 `pip check`；如果多个核心包"
                                           "互相冲突，新建一个环境更快（`envdoctor fix --plan`）。",
    "vllm-known-issue.title": "vllm {vllm} {problems}",
    "vllm-known-issue.evidence.pin": "vllm {vllm} {problem}；实际是 {found}",
    "vllm-known-issue.why": "vLLM 官方文档列出了这个版本的问题；它在运行时才会出现，安装时看不出来。",
    "vllm-known-issue.note.offer": "vllm {offer} 修复了这个问题；`envdoctor fix --vllm {offer}` 会在新环境里规划"
                                   "安装（它锁定的 torch 版本不同，原地升级会连 torch 一起换掉）。",
    "python-unsupported-by-vllm.title": "{subject}不支持 Python {python}",
    "python-unsupported-by-vllm.installed": "已安装的 vllm {vllm} ",
    "python-unsupported-by-vllm.newest": "最新的 vllm（{vllm}）",
    "python-unsupported-by-vllm.evidence.target": "目标解释器：{executable} 是 Python {python}",
    "python-unsupported-by-vllm.evidence.range": "vllm {vllm} 支持 Python {span}（{limits}）",
    "python-unsupported-by-vllm.why": "只有这个 Python 版本有对应的预编译包（wheel）时，pip 才能装上 vLLM 和它精确"
                                      "锁定的 torch；否则会安装失败，或者悄悄选一个更旧的版本。",
    "python-unsupported-by-vllm.note.newest": "vllm {vllm} 是提供 Python {python} 预编译包的最新版本。",
    "python-unsupported-by-vllm.note.none": "envdoctor 的数据中没有任何 vLLM 版本支持 Python {python}。",
    "python-unsupported-by-vllm.note.other": "或者用其他方式创建 Python {python} 的虚拟环境（conda create -n vllm "
                                             "python={python}、pyenv、deadsnakes）。",
    # --- CUDA 工具包 --------------------------------------------------------------------
    "cuda-toolkit-not-needed.title": "用预编译包（wheel）运行 vLLM 不需要 CUDA 工具包",
    "cuda-toolkit-not-needed.evidence.toolkits": "已装的工具包：{versions}",
    "cuda-toolkit-not-needed.evidence.toolkits.nvcc": "已装的工具包：{versions}；PATH 中的 nvcc：{nvcc}",
    "cuda-toolkit-not-needed.evidence.torch": "torch 基于 CUDA {cuda} 构建，自带运行时库",
    "cuda-toolkit-not-needed.evidence.driver": "驱动最高支持 CUDA {cuda}",
    "cuda-toolkit-not-needed.why": "torch 和 vLLM 的 wheel 以 pip 包的形式自带 CUDA 运行时（nvidia-cuda-runtime-cu12、"
                                   "cuda-toolkit），只要求驱动足够新。除非你要编译 CUDA 代码，工具包的版本不需要和任何"
                                   "东西对应；nvidia-smi 显示的 \"CUDA Version\"{limit}是驱动支持的上限，不代表装了"
                                   "什么。",
    "cuda-toolkit-not-needed.limit": "（{limit}）",
    "cuda-toolkit-not-needed.note": "只有从源码编译 vLLM 或其他 CUDA 扩展时才需要保留工具包。",
    "cuda-toolkit-mismatch-for-build.title": "nvcc 是 CUDA {nvcc}，而 torch 基于 CUDA {torch} 构建",
    "cuda-toolkit-mismatch-for-build.why": "nvcc 的大版本和 torch 的不一致时，从源码编译 vLLM 或任何 torch CUDA 扩展"
                                           "都会失败（\"The detected CUDA version mismatches the version that was "
                                           "used to compile PyTorch\"）。用 wheel 安装不受影响。",
    "cuda-toolkit-mismatch-for-build.note": "只有要从源码编译时，才需要装 CUDA {major}.x 的工具包。",
    # --- 资源 ---------------------------------------------------------------------------
    "disk.pip cache": "pip 缓存",
    "disk.Hugging Face cache": "Hugging Face 缓存",
    "disk.temp": "临时目录",
    "low-disk.title": "安装和模型所在的磁盘只剩 {free}",
    "low-disk.evidence": "{purpose}：{path}：剩余 {free} / 共 {total}",
    "low-disk.why": "安装 vLLM 要下载并解压好几个 GB（光是带 CUDA 库的 torch 就超过 4 GB），pip 还会缓存一份，模型"
                    "权重另算；低于 {limit} GiB 时，安装常常进行到一半就报 \"No space left on device\"。",
    "low-disk.note": "或者把缓存指到更大的磁盘上：export PIP_CACHE_DIR=/big/pip HF_HOME=/big/hf TMPDIR=/big/tmp",
    "low-ram.title": "可用内存只有 {available}",
    "low-ram.evidence": "内存：共 {total}，可用 {available}",
    "low-ram.evidence.wslconfig": "{path}：[wsl2] memory={memory}",
    "low-ram.not-set": "（未设置：宿主机内存的 50%）",
    "low-ram.why": "vLLM 通过 CPU 内存读取权重，还会启动工作进程；内存太小时，加载模型会大量换页，或者被内核的 OOM "
                   "killer 直接杀掉，连 Python 报错都没有。",
    "low-ram.why.wsl": "vLLM 通过 CPU 内存读取权重，还会启动工作进程；内存太小时，加载模型会大量换页，或者被内核的 "
                       "OOM killer 直接杀掉，连 Python 报错都没有。除非 .wslconfig 另有设置，WSL 2 只给 Linux 分配 "
                       "Windows 内存的一半。",
    "low-ram.note": "关掉其他程序，或者加一些 swap。",
    "low-ram.note.wsl": "先调高上限：在 %UserProfile%\\.wslconfig 的 [wsl2] 下设置 memory=12GB（举例）。然后在 Windows "
                        "PowerShell 中运行 `wsl --shutdown`，再重新打开发行版：新的上限要这样之后才生效（只运行 "
                        "`wsl --shutdown` 并不会提高上限）。",
    # --- check 的终端输出 ---------------------------------------------------------------
    "label.seen": "依据：",
    "label.area": "：",
    "label.why": "原因：",
    "label.docs": "文档：",
    "severity.error": "错误",
    "severity.warn": "警告",
    "severity.info": "提示",
    "check.header": "envdoctor {version}：检查用时 {seconds} 秒",
    "check.header.wall": "envdoctor {version}：检查用时 {seconds} 秒（含启动共 {wall} 秒）",
    "check.no-problems": "没有发现问题。",
    "check.counts": "{errors} 个错误，{warnings} 个警告，{infos} 条提示 · 退出码 {code}",
    "check.ci-counts": "envdoctor：{errors} 个错误，{warnings} 个警告，{infos} 条提示，用时 {seconds} 秒（退出码 "
                       "{code}）",
    "check.deadline-hit": " · 达到了总时限：请用 --deadline 30 重新运行",
    "check.rule-crashed": "envdoctor 自身在执行某条规则时出错（请报告这个问题）：",
    "area.platform.title": "平台",
    "area.wsl.title": "WSL GPU 支持",
    "area.driver.title": "NVIDIA 驱动",
    "area.cuda.title": "CUDA 工具包",
    "area.python.title": "Python 环境",
    "area.torch.title": "torch 运行时",
    "area.resources.title": "系统资源",
    "area.model.title": "模型",
    "area.network.title": "网络",
    # --- 探测没有结果的原因 ------------------------------------------------------------
    "probe.not-linux": "不是 Linux（{system}）：vLLM 需要 Linux 或 WSL 2",
    "probe.wsl.not-wsl2": "没有运行在 WSL 2 下",
    "probe.wsl.wsl1": "没有运行在 WSL 2 下（WSL 1 完全没有 GPU）",
    "probe.driver.absent": "没有 NVIDIA 驱动：NVML 库和 nvidia-smi 都没有安装",
    "probe.cuda.absent": "没有安装 CUDA 工具包（用 wheel 运行 vLLM 本来也不需要）",
    "probe.torch.no-python": "无法读取 Python 环境",
    "probe.torch.absent": "目标环境中没有安装 torch",
    "probe.network.replayed": "录制的机器没有可检查的网络",
    # --- 阻碍（某个 vLLM 版本为什么跑不了：接在 "vllm X" 后面的分句）与需要的改动 -----------
    "blocker.windows": "不能在原生 Windows 上运行（只有 Linux 的 wheel）",
    "change.windows": "在 WSL 2 里运行：在管理员 PowerShell 中执行 `wsl --install -d Ubuntu-22.04`",
    "blocker.wsl1": "在 WSL 1 中无法访问 GPU",
    "change.wsl1": "把发行版转换为 WSL 2：在 PowerShell 中执行 `wsl --set-version <distro> 2`",
    "blocker.macos": "没有 macOS 的 CUDA 版本",
    "change.macos": "换一台带 NVIDIA GPU 的 Linux 机器",
    "blocker.jetson": "不为 Jetson 规划：Jetson 的驱动和 CUDA 随 JetPack 提供，软件包索引里的 x86_64/SBSA wheel "
                      "不是 Jetson 的构建",
    "change.jetson": "使用 NVIDIA 为 Jetson 构建的 vLLM 和 torch（jetson-containers、Jetson AI Lab 的 wheel 源），"
                     "选与你的 JetPack 版本对应的",
    "blocker.arch": "没有 {arch} 的 wheel（只有 {platforms}）",
    "change.arch": "选一个有 {arch} wheel 的 vLLM 版本，或者换一台 x86_64 机器",
    "blocker.glibc": "需要 glibc >= {need}（它的 wheel 是 {tag}）；本机是 {glibc}",
    "change.glibc": "换一个更新的发行版（glibc >= {need}）或用容器，或者选更旧的 vLLM 版本",
    "blocker.no-gpu": "需要 NVIDIA GPU；这里一块都看不到",
    "change.no-gpu": "在有 NVIDIA GPU 的机器上运行（或者用 --gpu NAME --driver X 为那样的机器做规划）",
    "blocker.unknown-cc": "无法判断能否在 {gpu} 上运行：不知道它的算力",
    "change.unknown-cc": "用 `{command}` 查出算力，再传 --cc X.Y",
    "blocker.unknown-min-cc": "envdoctor 的数据中没有它要求的最低算力",
    "change.unknown-min-cc": "到 vLLM {vllm} 的安装文档（\"compute capability X or higher\"）或它的 CMakeLists.txt "
                             "中的 CUDA_SUPPORTED_ARCHS 查一下，或者换一个版本",
    "blocker.cc-too-low": "要求算力 >= {need}；{gpu} 的算力是 {cc}",
    "change.cc-too-low.none": "换一块算力 {lowest} 及以上的 GPU（没有任何 vLLM 版本支持算力 {cc}）",
    "change.cc-too-low.older": "换一个 vLLM 版本：vllm {vllm} 支持算力 {cc}",
    "blocker.unknown-vllm-archs": "无法判断能否在 {gpu}（{sm}）上运行：envdoctor 的数据中没有 vllm {vllm} 的 CUDA "
                                  "构建或架构列表",
    "change.unknown-vllm-archs": "换一个 vLLM 版本，或者查看它 CMakeLists.txt 中的 CUDA_SUPPORTED_ARCHS",
    "blocker.vllm-no-kernels": "它的 CUDA {cuda} 构建里没有 {gpu}（{sm}）的算子",
    "change.vllm-no-kernels": "选一个更新的 vLLM 版本（Blackwell 需要 CUDA >= 12.8 构建的 vLLM 和 torch）",
    "blocker.unknown-torch-archs": "锁定 torch {torch}，而 envdoctor 的数据中没有它的 {tag} 构建是否带 {gpu}（{sm}）"
                                   "算子的信息",
    "change.unknown-torch-archs": "装上 torch {torch} 后查一下：`python -c \"import torch; "
                                  "print(torch.cuda.get_arch_list())\"`",
    "blocker.torch-no-kernels": "锁定的 torch {torch} 的 {tag} 构建没有 {gpu}（{sm}）的算子（它只有 {archs}，来自 "
                                "{where}）",
    "change.torch-no-kernels": "选一个更新的 vLLM 版本（它锁定的 torch 构建没有这块 GPU 的算子）",
    "blocker.unknown-driver": "无法判断能否在驱动 {driver} 上运行：envdoctor 的数据中没有它支持哪个 CUDA（比 R418 "
                              "还旧？）",
    "change.unknown-driver": "看一下 `nvidia-smi` 显示的 \"CUDA Version\"，或者升级 NVIDIA 驱动：{url}",
    "blocker.built.torch": "基于 CUDA {cuda} 构建的 torch {torch}",
    "blocker.built.both": "CUDA {vllm_cuda}（它的算子）和基于 CUDA {cuda} 构建的 torch {torch}",
    "blocker.driver-too-old": "需要{built}；驱动 {driver} 最高只支持 CUDA {have}",
    "change.driver": "把 NVIDIA 驱动升级到 {need} 或更新的版本（CUDA {what}）{native}：{url}",
    "change.driver.windows": "在 Windows 上把 NVIDIA 驱动升级到 {need} 或更新的版本（CUDA {what}；WSL 2 用的是 "
                             "Windows 的驱动）{native}",
    "change.driver.native": "；{native} 及以上可原生运行 CUDA {cuda}",
    # --- 安装计划的步骤 -----------------------------------------------------------------
    "plan.driver.title": "检查 NVIDIA 驱动",
    "plan.driver.where": "NVIDIA 驱动",
    "plan.driver.where.wsl2": "Windows 上的驱动（WSL 2 用的就是它）",
    "plan.driver.built.same": "vLLM {vllm} 和 torch {torch} 都基于 CUDA {cuda} 构建",
    "plan.driver.built.both": "vLLM {vllm} 基于 CUDA {vllm_cuda} 构建，torch {torch} 基于 CUDA {cuda}",
    "plan.driver.why": "{built}：{where}必须是 {need} 或更新的版本{native}。wheel 自带 CUDA 运行时，不需要安装 CUDA "
                       "工具包。",
    "plan.driver.native": "（{native} 及以上可原生运行 CUDA {cuda}）",
    "plan.driver.check": "驱动 >= {need}",
    "plan.env.title": "创建环境（{tool}，Python {python}）",
    "plan.env.how.conda": "新建一个 conda 环境（conda 自带 Python）",
    "plan.env.how.uv": "新建一个 uv 虚拟环境（uv 会找到或下载 Python；--seed 会在里面装好 pip）",
    "plan.env.how.venv": "用 python{python} 新建一个虚拟环境",
    "plan.env.how.venv.other": "用 python{python} 新建一个虚拟环境（当前使用的 Python 是 {current}：先安装 "
                               "python{python}，或者加 --env-tool uv 重新运行）",
    "plan.env.why": "{how}，绝不动当前正在用的环境：装到一半失败也不会把它弄坏。选 Python {python}：这套组合的 wheel "
                    "支持 Python {pythons}（{limits}）。",
    "plan.env.check": "新环境运行的是 Python {python}",
    "plan.pip.title": "升级 pip",
    "plan.pip.why": "pip {pip} 及以上在下载中断后可以断点续传（--resume-retries，pip {resume} 起支持），不用从头再下 "
                    "800 MB；而且解析依赖时不用下载文件（`fix --apply` 依赖这一点）。",
    "plan.pip.why.old": "Python {python} 能运行的最新 pip（支持断点续传的 pip {resume} 需要 Python 3.9）。",
    "plan.pip.check": "pip >= {pip}",
    "plan.pip.check.runs": "pip 可以运行",
    "plan.torch.title": "安装 torch {torch}（{tag}）",
    "plan.torch.why": "vLLM {vllm} 精确锁定 {pin}（它编译好的算子链接的就是这个版本）；CUDA {cuda} 构建（{tag}）是软件"
                      "包"
                      "索引为 {pin} 提供的那一版，vLLM 的发布版就是用它构建的。先单独安装 torch，这样体积最大的下载可以"
                      "单独重试、单独验证。",
    "plan.torch.check": "torch {torch} 基于 CUDA {cuda} 构建",
    "plan.torch.check.gpu": "torch 能访问 GPU",
    "plan.torch.download": "另加 torch 依赖的 CUDA 库（nvidia-* wheel），未计入",
    "plan.vllm.title": "安装 vLLM {vllm}",
    "plan.vllm.why": "安装 vLLM 及其锁定的配套包（{companions}）；约束文件把 torch 固定在 {torch}，pip 就没法换成别的"
                     "构建。{extra}{variant}",
    "plan.vllm.none": "无",
    "plan.vllm.extra": "另外还需要 {pins}，这个版本要求这样。",
    "plan.vllm.variant": "vLLM 的 {variant} wheel 来自它的 GitHub release，配套包的 {tag} 构建来自 {index}。",
    "plan.vllm.check": "vllm {vllm} 可以导入，torch 仍然是 {torch}",
    "plan.vllm.check.pip": "没有未满足的依赖（pip check）",
    "plan.vllm.download": "另加 vLLM 的其他依赖，未计入",
    # --- 解析器自己的阻碍、改动和组合说明 ---------------------------------------------
    "blocker.driver-unanswered": "NVIDIA 驱动没有响应（{status}：{error}）",
    "blocker.python-none": "没有哪个 Python 版本能让它的所有 wheel 都可用（{limits}）",
    "change.python-none": "换一个 vLLM 版本（没有 Python 版本适配 vllm {vllm} 的全部 wheel）",
    "blocker.python-wish": "不能在 Python {python} 上运行（{limits}）",
    "change.python-wish": "vllm {vllm} 请使用 Python {span}",
    "blocker.torch-unknown": "锁定的 torch {torch} 不在 envdoctor 的数据中（或者没有默认的 CUDA 构建）",
    "change.refresh": "更新数据：`envdoctor matrices refresh`",
    "blocker.driver-broken": "需要一个能正常工作的 NVIDIA 驱动；这里的驱动没有响应",
    "change.driver-broken": "先修好驱动（见 `envdoctor check`）",
    "blocker.no-wheel": "锁定的 {pin} 没有 wheel（会从源码编译）",
    "change.another-release": "换一个 vLLM 版本",
    "blocker.variant-wheel": "envdoctor 的数据中没有它 {arch} 的 {variant} wheel",
    "change.variant-wheel": "选一个有 {arch} wheel 的 vLLM 版本",
    "change.driver-unlocks": "把 NVIDIA 驱动升级到 {need} 或更新的版本（CUDA {major}.x）：这样能跑 vllm {vllm}（"
                             "{url}）",
    "change.driver-unlocks.windows": "在 Windows 上把 NVIDIA 驱动升级到 {need} 或更新的版本（CUDA {major}.x；WSL 2 "
                                     "用的是 Windows 的驱动）：这样能跑 vllm {vllm}",
    "change.driver-least": "在这里能跑某个 vLLM 版本的最低驱动是 {need}（CUDA {major}.x）：vllm {vllm}",
    "stack.no-toolkit": "不需要 CUDA 工具包：wheel 自带 CUDA 运行时，只有驱动版本要紧。",
    "stack.no-toolkit.here": "不需要 CUDA 工具包：wheel 自带 CUDA 运行时，只有驱动版本要紧（本机装的 CUDA {toolkit} "
                             "工具包不会被用到）。",
    "stack.known": "vllm {vllm} {text}{pins}{offer}。",
    "stack.known.pins": "：计划中锁定了 {pins}",
    "stack.known.offer": "；vllm {offer} 已修复（envdoctor fix --vllm {offer}）",
    "stack.variant": "vllm {vllm} 是 vLLM 在 GitHub release 上发布的 CUDA {vllm_cuda} wheel（软件包索引上只有 CUDA "
                     "{cuda} 的构建），与 torch {torch} 一起安装。",
    "stack.torch-build": "使用 torch {torch}，而不是默认的 {default} 构建：默认构建没有这块 GPU 的算子，或者不知道它的"
                         "架构列表。",
    "stack.via-compat": "驱动 {driver} 通过小版本兼容运行 CUDA {cuda}（CUDA {major}.x 要求驱动 >= {compat}）；{native} "
                        "及以上可原生运行。注意：小版本兼容有局限，即时编译比驱动更新的 PTX 的代码会报错 \"the provided"
                        " PTX was compiled with an unsupported toolchain\"。",
    "stack.newer-driver": "更新的驱动",
    "stack.no-bf16": "算力低于 8.0 不支持 bfloat16：运行 vLLM 时加 --dtype half。",
    "stack.default-index": "envdoctor 的数据中，PyTorch 的 wheel 源上没有这个 torch 的 CUDA 构建：它会从默认的软件包"
                           "索引安装。",
    "stack.other-python": "新环境使用 Python {python}：当前使用的 Python（{current}）不在这套组合支持的范围内（"
                          "{limits}）。",
    "stack.glibc": "vllm 的 wheel 需要 glibc >= {glibc}（见它的 manylinux 标签）；用 `ldd --version` 查看。",
    "stack.gpu-unknown": "GPU 未知：需要算力 {cc} 或更高。",
    "stack.driver-unknown": "驱动未知：Linux 上需要 {linux} 或更新的版本{windows}。",
    "stack.driver-unknown.windows": "，Windows（WSL 2）上需要 {windows} 或更新的版本",
    "stack.newest-here": "vllm {vllm} 是能在当前 Python（{python}）上运行的最新版本。",
    "plan.wanted.newest": "能在这里运行的最新 vLLM",
    # --- fix --plan 的终端输出 ----------------------------------------------------------
    "sep.items": "，",
    "plan.head": "安装计划：{wanted}",
    "plan.machine": "  机器：{machine}",
    "plan.target": "{os} {machine}，{gpus}，{driver}，Python {python}",
    "plan.target.gpu": "{name}（算力 {cc}）",
    "plan.target.no-gpu": "没有 NVIDIA GPU",
    "plan.target.gpu-unknown": "GPU 未知",
    "plan.target.driver": "驱动 {driver}（CUDA <= {cuda}）",
    "plan.target.driver-unknown": "驱动未知",
    "plan.target.overridden": " [按给定的 {given} 规划]",
    "plan.summary": "vllm {vllm} + torch {torch}（{tag}），Python {python}",
    "plan.summary.with": "，配套 {pins}",
    "plan.release-span": "{first}–{last}（{count} 个版本）",
    "plan.none": "✗ envdoctor 的数据中没有哪个 vLLM 版本能按要求在这里运行。",
    "plan.changes": "需要做的改动：",
    "plan.torch-wheels": "  torch wheel 源：{index}",
    "plan.default-index": "默认的软件包索引",
    "plan.pythons": "  Python {python}：这些 Python 版本有 wheel：{pythons}（{limits}）",
    "plan.driver-floor": "  驱动：CUDA {cuda} 需要 >= {linux}（Linux）/ >= {windows}（Windows、WSL 2）；CUDA {major}.x "
                         "在 >= {compat} 上可通过小版本兼容运行",
    "plan.new-env": "  新环境：{env}（{tool}）；下载约 {size}，另加依赖",
    "plan.needs-root": "（需要 root）",
    "plan.write": "   写入 {path}：{content}",
    "plan.check": "   验证：{what}",
    "plan.then-smoke": "然后用一次真实的生成来验证：",
    "plan.or-apply": "或者：envdoctor fix --apply（在新环境中完成以上全部步骤，可断点续装），--format sh | md | json | "
                     "dockerfile",
    "plan.model": "模型 {model} 在 {gpu} 上：{verdict}",
    "plan.instead": "   改用：{command}",
    "plan.newest-here": "能在这里运行的最新版本：vllm {vllm}（envdoctor fix --plan）",
    "plan.rejected": "不适用的版本：",
    # --- explain：分析补充的内容 -------------------------------------------------------
    "explain.line.downloading": "第 {line} 行：Downloading {file}（{size}）",
    "explain.download.average": "按日志时间戳，{seconds} 秒下载了 {done}：平均 {rate} MB/s",
    "explain.download.done": "，停在 {done} / {size}（{percent} %）",
    "explain.download.done.comma": "，停在 {done} / {size}（{percent} %）",
    "explain.download.eta": "（预计剩余 {eta}）",
    "explain.download.lost": "已经收到的 {done} 被丢弃了：25.2 之前的 pip 不支持断点续传，重新运行要从零开始。",
    "explain.download.other": "{title}（{what}，{size}{done}）",
    "download-slow.title": "{what} 的 wheel（{size}）下载太慢，超时了{done}",
    "download-slow.trickle": "一点点",
    "download-slow.why": "线路只有 {rate}{eta}：这么慢的速度下载 {size} 的 wheel 要很久，只要有一次停顿超过 pip 的读取"
                         "超时（默认 15 秒），下载就会中断。{lost}软件包索引或它的镜像源太远或者被限速了；不是环境的问"
                         "题。",
    "download-stalled.title": "{what} 的 wheel（{size}）下载卡住了{done}；pip 的读取超时被触发",
    "download-stalled.rate": "，速度 {rate}",
    "download-stalled.why": "是卡住了，不是网速慢：下载本来在正常进行{rate}{eta}，之后在 pip 的读取超时时间内（默认 15 "
                            "秒）再没收到数据，pip 就放弃了。{lost}环境（CUDA、驱动、Python）没有任何问题，重装它们也"
                            "没用。",
    "explain.note.pip-resume": "pip 25.2 及以上会自动续传中断的下载（pip 25.1 加入了 --resume-retries）：python3 -m "
                               "pip install --upgrade 'pip>=25.2'（{url}）。",
    "torch-unpinned-in-build.title.pinned": "这一步下载了一个未锁定版本的 torch {torch}，vLLM {vllm} 并不会用它",
    "torch-unpinned-in-build.why.pinned": "{who} 对 torch 版本没有要求，pip 就选了最新的 {torch}（{size}）。vLLM {vllm}"
                                          " 锁定的是 torch=={pin}（matrices/vllm.csv）：这第二个 torch 永远不会被 vLLM "
                                          "用到，装进 vLLM 的环境还会把它弄坏（vllm-torch-mismatch）。",
    "torch-unpinned-in-build.note.constrain": "改为约束它：echo 'torch=={pin}' > constraints.txt，再加上 -c "
                                              "constraints.txt。",
    "torch-unpinned-in-build.title": "这一步下载了未锁定版本的 torch {torch}，它是 {who} 的依赖",
    "torch-unpinned-in-build.title.any": "这一步下载了未锁定版本的 torch{torch}，它是 {who} 的依赖",
    "torch-unpinned-in-build.why": "{who} 对 torch 版本没有要求，pip 就选了最新的 {torch}（{size}）。vLLM 锁定一个确定"
                                   "版本的 torch（见它源码中的 requirements-cuda.txt）{pinning}。换成其他 vLLM 版本，"
                                   "这就是一次 vLLM 根本用不到的额外 torch 下载。",
    "torch-unpinned-in-build.pinning": "；在 envdoctor 已知的 vLLM 版本中，{releases} 锁定 torch {torch}",
    "torch-unpinned-in-build.pinning.one": "；在 envdoctor 已知的 vLLM 版本中，{releases} 锁定 torch {torch}",
    "torch-unpinned-in-build.pinning.none": "；envdoctor 已知的 vLLM 版本都没有锁定 torch {torch}",
    "torch-unpinned-in-build.note.grep": "在 vLLM 源码目录中运行 grep -n '^torch' requirements-cuda.txt 可以看到锁定的"
                                         "版本；`envdoctor explain LOG --vllm VERSION` 会对照那个版本检查。",
    "torch-unpinned-in-build.note.no-deps": "`--no-deps` 只编译这个 wheel；它的依赖装到 vLLM 所在的环境里（vLLM 后来"
                                            "自己的 Dockerfile 对这一步就是这么做的）。",
    "explain.note.docker-image": "这是在构建 vLLM 自己的镜像：直接用官方发布的同版本 {image} 镜像，不用构建，镜像里也"
                                 "不用下载任何 wheel，只需 pull，Docker 会逐层续传。",
    "explain.note.docker-image.tag": "这是在构建 vLLM 自己的镜像：直接用官方发布的同版本 {image} 镜像，不用构建，镜像里"
                                     "也不用下载任何 wheel，只需 pull，Docker 会逐层续传。它的 tag 是 v 加 vLLM 版本号"
                                     "（例如 v0.5.3）；加 --vllm 会自动填上。",
    "explain.note.docker-cache": "这个 Dockerfile 的其他 RUN 步骤用了 `--mount=type=cache,target=/root/.cache/pip`；"
                                 "失败的这一步没有用，所以每次重试都要重新下载全部内容。给它也加上这个缓存挂载。",
    "explain.note.docker-env": "在 Dockerfile 中这一步之前加上：ENV PIP_DEFAULT_TIMEOUT=60 PIP_RETRIES=10（即用环境"
                               "变量设置 pip 的 --timeout 和 --retries）。",
    "explain.note.docker-wheelhouse": "或者在网络好的地方先把 wheel 下载好（pip download -d wheelhouse ...），把 "
                                      "wheelhouse COPY 进构建，再用 --no-index --find-links wheelhouse 安装。",
    # --- explain 的终端输出 -------------------------------------------------------------
    "explain.lines": "{count} 行",
    "explain.kind.docker-build": "docker 构建",
    "explain.kind.container-start": "容器启动",
    "explain.kind.pip": "pip",
    "explain.kind.vllm": "vLLM",
    "explain.kind.wsl": "WSL",
    "explain.summary": "envdoctor explain：{source}（{parts}；{seconds} 秒）",
    "explain.note": "  说明：{note}",
    "explain.nothing-known": "这份日志里没有认出已知的问题。",
    "explain.error-lines": "最像错误的几行：",
    "explain.line": "  第 {number} 行：{text}",
    "explain.no-errors": "里面没有看起来像错误的内容。",
    "explain.if-failed": "如果确实失败了，请在那台机器上运行 `envdoctor check`，或者把日志附到 bug 报告里"
                         "（`envdoctor report` 会生成一份脱敏的报告）。",
    "explain.exit": "退出码 {code}",
    "explain.class": "类别：{name}",
    "explain.class.meaning": " - {meaning}",
    "explain.class.network": "网络",
    "explain.class.environment": "环境 / 版本不匹配",
    "explain.class.wsl": "WSL",
    "explain.class.resources": "资源 / 内存",
    "explain.class.build": "从源码编译",
    "explain.class.docker": "docker / 容器",
    "explain.class.other": "其他",
    "explain.class.network.meaning": "网络出了问题；环境没有问题，不需要重装",
    "explain.class.environment.meaning": "版本或已装的组件互相不匹配",
    "explain.class.wsl.meaning": "WSL 2 的 GPU 支持",
    "explain.class.resources.meaning": "内存或磁盘不够",
    "explain.class.build.meaning": "从源码编译失败",
    "explain.class.docker.meaning": "Docker 或容器运行时",
    "explain.class.other.meaning": "",
    "explain.root": "根本原因",
    "explain.also": "另一原因",
    "explain.label.note": "附注",
    "explain.surfaced": "表现为：",
    "explain.counts": "{causes} 个原因，{others} 条其他发现 · 退出码 {code}",
    "explain.shared": "（也是 `check` 的检查项）",
    "explain.inferred": "    可信度：较低 - 没有匹配到确切的错误特征，是根据报错的措辞、失败的工具和日志类型推断的",
    "explain.seen-at": "    这条报错文本的出处：{source}",
    "explain.evidence.line": "第 {line} 行：{text}",
    "explain.evidence.count": "共有 {count} 行匹配",
    "probe.exited": "{tool} 退出码为 {code}：{output}",
    # --- 各检查项的状态行 ---------------------------------------------------------------
    "summary.platform.wsl": "，运行在 WSL {wsl} 上",
    "summary.platform.container": "，在 {container} 中",
    "summary.platform.kernel": "{where}（{machine}，内核 {kernel}）",
    "summary.platform": "{where}（{machine}）",
    "summary.wsl.stub": "libcuda 映射存在",
    "summary.wsl.no-stub": "没有 libcuda 映射",
    "summary.wsl.loader": "动态链接器 → {path}",
    "summary.wsl.no-loader": "动态链接器找不到 libcuda.so.1",
    "summary.driver": "{version}（CUDA {cuda}），通过 {source} 读取",
    "summary.driver.no-gpu": "没有 GPU",
    "summary.cuda.no-nvcc": "PATH 中没有 nvcc",
    "summary.cuda.installed": "已安装：{toolkits}",
    "summary.python.packages": "{count} 个包",
    "summary.torch.cached": " · 已缓存（torch、驱动和 GPU 都没变；--fresh 会重新检测）",
    "summary.torch.cpu": "torch {version}（CPU 版）",
    "summary.torch.available": "CUDA 可用",
    "summary.torch.not-available": "CUDA 不可用",
    "summary.resources.ram": "内存 {total}（可用 {available}）",
    "summary.resources.disk": " · 磁盘剩余 {free}（{purpose}）",
    "progress.checking": "envdoctor：正在检查 {areas} · 最多还要 {seconds} 秒",
    "extension-torch-mismatch.title": "torchvision {vision} 是为另一个 torch 构建的，与 torch {torch} 不匹配",
    "extension-torch-mismatch.evidence.series": "torch {torch} 对应 torchvision {want}.x，而不是 {have}",
    "extension-torch-mismatch.evidence.build": "torch 是 {torch} 构建，torchvision 是 {vision} 构建",
    "extension-torch-mismatch.evidence.index-build": "torchvision {vision} 没有构建标签：它是软件包索引上的 wheel，"
                                                     "为 CUDA {cuda} 构建，而 torch 是 {torch} 构建",
    "extension-torch-mismatch.why": "torchvision 编译好的算子（torchvision::nms、图像解码器）链接的是某一个 torch 版本"
                                    "及其 "
                                    "CUDA 构建；和别的 torch 放在一起就加载不了（\"operator torchvision::nms does not "
                                    "exist\"、undefined symbol），pip 还可能为了满足 torchvision 的版本锁定而把 torch "
                                    "换掉。",
    "extension-torch-mismatch.note": "用一条命令从同一个索引同时安装 torch 和 torchvision，保证两者的构建一致。",
    "network.mirror.pypi": "可选（中国大陆用户）：{name} 提供的公共 PyPI 镜像源："
                           "`{pip} config set global.index-url {url}`（说明见 {doc}）",
    "network.mirror.torch": "每个 torch 版本的默认 CUDA 构建也发布在包索引（及其镜像源）上："
                            "`{pip} install torch=={version}` 不加 --index-url，就用不到 PyTorch 的索引。",
    "network.mirror.hf": "可选（中国大陆用户）：`export HF_ENDPOINT={url}`（hf-mirror，社区维护的镜像；"
                         "huggingface_hub 和 vLLM 随后都从它下载）。",
    "network.mirror.modelscope": "可选：改用魔搭 ModelScope：`pip install modelscope` 并 "
                                 "`export VLLM_USE_MODELSCOPE=True`（vLLM 只认 true/false）。",
    "network.note.wheelhouse": "也可以在网络好的机器上把大的 wheel 先下载好，再离线安装：在那台机器上运行 "
                               "`{pip} download --dest ~/wheelhouse torch`，把 ~/wheelhouse 拷到本机，然后 "
                               "`{pip} install --no-index --find-links ~/wheelhouse torch`。",
    "network.evidence.pip-timeout": "pip 超时设置：{timeout} 秒",
    "index-url-invalid.title": "pip 配置的索引地址不是合法的 URL",
    "index-url-invalid.why": "pip 在下载任何东西之前会先解析索引配置：只要有一项解析不了，每次安装都会报错退出，"
                             "而且报错里不提任何包名。",
    "index-url-invalid.note": "修正或删除上面列出的配置（`pip config unset global.index-url`，或者环境变量 "
                              "PIP_INDEX_URL / PIP_EXTRA_INDEX_URL）；URL 的格式是 http(s)://host[:port]/path。",
    "proxy-invalid.title": "代理设置的值不是合法的代理 URL",
    "proxy-invalid.why": "pip、requests 和 huggingface_hub 遇到格式错误的代理会直接拒绝，一个请求都不发"
                         "（\"Port could not be cast to integer\"、InvalidProxyURL），所以所有下载都会失败。",
    "proxy-invalid.note": "然后按 scheme://[user:password@]host:port 的格式重新设置，例如 "
                          "`export HTTPS_PROXY=http://proxy.example.com:3128`；密码里的 @ : / 要做百分号编码。",
    "pip-config-invalid.title": "pip 读不了自己的配置文件",
    "pip-config-invalid.why": "pip 执行任何命令前都会加载所有配置文件；只要有一个不是合法的 INI，每条 pip 命令都会"
                              "在联网之前就报 ConfigurationError 退出。",
    "pip-config-invalid.note": "之后用 `pip config set global.index-url URL` 重新写入配置：pip.conf 的格式是一行 "
                               "[global] 表头，后面跟若干 `key = value` 行。",
    "uv-config-invalid.title": "uv 读不了自己的配置文件",
    "uv-config-invalid.why": "uv 执行任何命令前都会读取 uv.toml（以及 pyproject.toml 里的 [tool.uv]）；只要文件不是"
                             "合法的 TOML，每条 uv 命令都会在联网之前报解析错误退出。",
    "uv-config-invalid.note": "修正该文件（TOML 写法：`key = \"value\"`，表写成 [[index]]），或者用 --no-config"
                              "（UV_NO_CONFIG=1）运行 uv，忽略这个文件。",
    "condarc-invalid.title": "conda 读不了某个 .condarc",
    "condarc-invalid.why": "conda 执行命令前会读取所有 .condarc；只要有一个不是合法的 YAML，conda 就会报解析错误"
                           "退出，envdoctor 也无从判断它会用哪些频道（channel）。",
    "condarc-invalid.note": "之后用 `conda config --add channels NAME` 重新添加频道。",
    "ca-bundle-invalid.title": "指定的 CA 证书包文件无法加载",
    "ca-bundle-invalid.why": "指定的证书包不存在或不是 PEM 格式时，pip 和 requests 的所有 HTTPS 下载都会失败"
                             "（\"Could not find a suitable TLS CA certificate bundle\"）。",
    "ca-bundle-invalid.note": "{ca} 是 Debian/Ubuntu 的系统证书包（Fedora 上是 /etc/pki/tls/certs/ca-bundle.crt）。",
    "network.proxy.title": "代理 {proxies}（来自 {sources}）{what}{every}",
    "network.proxy.every": "：经过它的下载全部失败（共 {count} 处）",
    "network.proxy.note.correct": "或者改成正确的代理：`export HTTPS_PROXY=http://HOST:PORT`，填你所在网络实际使用的"
                                  "代理。如果代理是一个软件（Clash、v2rayN、VPN 客户端），先把它打开。",
    "network.proxy.note.wsl-loopback": "WSL 2 默认是 NAT 模式：127.0.0.1 指的是 Linux 虚拟机自己，不是 Windows，"
                                       "所以 Windows 上的代理软件在这个地址上并不存在。请改用 Windows 主机的地址"
                                       "（`ip route show default | awk '{{print $3}}'`），并在代理软件里打开"
                                       "“允许局域网连接”；或者在 %UserProfile%\\.wslconfig 的 [wsl2] 下设置 "
                                       "networkingMode=mirrored，然后在 Windows PowerShell 里运行 `wsl --shutdown`。",
    "proxy-refused.what": "拒绝连接或拒绝建立隧道",
    "proxy-refused.why": "代理端口上没有服务在监听，或者它对 CONNECT 返回了错误：经过它的每个下载还没开始就失败了，"
                         "pip 报的 ProxyError 看起来像是索引坏了。不需要代理就删掉这项设置，否则改成正确的。",
    "proxy-unresponsive.what": "没有响应",
    "proxy-unresponsive.why": "代理的主机名解析不了，或者它接受了连接却一直不回应：pip 每次重试都要等到超时，"
                              "最后报一个看起来像索引坏了的 ProxyError。不需要代理就删掉这项设置，否则改成正确的。",
    "proxy-auth-required.title": "代理 {proxy}（来自 {sources}）要求身份验证，不提供凭据就不转发（407）",
    "proxy-auth-required.why": "407 表示代理能连上，但要求你先登录；pip 会显示 "
                               "\"407 Proxy Authentication Required\" 或隧道错误，然后放弃。",
    "proxy-auth-required.note.encode": "密码里的特殊字符要做百分号编码（@ 写成 %40，: 写成 %3A）。",
    "proxy-auth-required.note.ntlm": "这个代理要求 NTLM/Negotiate（Windows 域）认证，pip 和 requests 都不支持："
                                     "请在本机运行一个负责认证的本地代理（cntlm，Windows 上可用 px），再把代理变量"
                                     "指向它，例如 http://127.0.0.1:3128。",
    "proxy-auth-required.note.no-proxy": "如果这里不需要代理：{commands}。",
    "proxy-env-mismatch.title": "各处的代理设置不一致",
    "proxy-env-mismatch.why": "每个工具选代理的方式都不一样（pip 有自己的设置，requests 优先读小写变量，curl 和 "
                              "wget 读小写变量，NO_PROXY 按后缀匹配）；设置不一致时，安装中的某一步走的路线会和你"
                              "测试时不同。",
    "proxy-env-mismatch.evidence.differ": "{lower} 和 {upper} 的值不同（{a} 与 {b}）：Python 工具用 {lower}，"
                                          "其他工具可能用 {upper}",
    "proxy-env-mismatch.evidence.only-upper": "只设置了 {upper}：wget 只读 {lower}{curl}",
    "proxy-env-mismatch.evidence.curl": "，curl 也不认大写的 HTTP_PROXY",
    "proxy-env-mismatch.evidence.only-lower": "只设置了 {lower}：Python、curl 和 wget 都读它；把 {upper} 也设上，"
                                              "让读大写变量的工具保持一致",
    "proxy-env-mismatch.evidence.http-only": "只给 http:// 设置了代理：所有 https:// 索引和模型仓库都会直连",
    "proxy-env-mismatch.evidence.internal": "{host}（{label}）是内网地址，但 NO_PROXY 里没有它：访问它也会走代理",
    "proxy-env-mismatch.evidence.no-proxy": "{match} 让 {host} 直连，而直连失败了：{detail}",
    "proxy-env-mismatch.evidence.pip-overridden": "pip {pip} 会让 {source} 覆盖它自己的代理设置（{pip_source}）；"
                                                  "pip 24.1 起改成了相反的优先级",
    "proxy-env-mismatch.evidence.pip-differs": "pip 用的是 {proxy}（{source}），其他工具用的是 {others}",
    "network.dns.servers": "使用所在网络提供的 DNS 服务器，或公共 DNS：1.1.1.1（Cloudflare）、8.8.8.8（Google）、"
                           "223.5.5.5（阿里 DNS，中国大陆可用）。",
    "network.dns.note.wsl": "WSL 2 会自己生成 /etc/resolv.conf（generateResolvConf），指向 Windows 一侧的解析器，"
                            "而 VPN 和防火墙经常把它弄坏；上面的命令关掉自动生成，改用你指定的 DNS 服务器。如果 "
                            "/etc/wsl.conf 里已经有 [network] 段，把这一行加到那一段里。",
    "network.dns.note.mirrored": "或者在 Windows 11 22H2 及以上版本：在 %UserProfile%\\.wslconfig 的 [wsl2] 下设置 "
                                 "networkingMode=mirrored 和 dnsTunneling=true，然后运行 `wsl --shutdown`{now}。",
    "network.dns.note.now": "（当前：networkingMode={mode}）",
    "network.dns.note.resolv": "如果指定 1.1.1.1 能解析、默认却不行，说明配置的 DNS 服务器有问题：修改 "
                               "/etc/resolv.conf（或网络管理工具里的 DNS 设置）。",
    "network.dns.evidence.generate-true": "true（由 WSL 生成 resolv.conf）",
    "dns-failure.configured-server": "当前配置的 DNS 服务器",
    "dns-failure.title.server": "DNS 服务器 {server}（/etc/resolv.conf）一个域名都解析不了：{hosts}",
    "dns-failure.why.server": "所有域名解析都失败了，所以问题出在 DNS 服务器（或到它的网络），而不是这些主机："
                              "域名解析恢复之前什么都下载不了，换镜像源也没用（镜像源的域名同样要解析）。",
    "dns-failure.title": "DNS 无法解析 {hosts}",
    "dns-failure.why": "域名解析不了的主机什么也下载不了；pip 会报 \"Temporary failure in name resolution\" 或 "
                       "NewConnectionError，看起来像是索引坏了。",
    "dns-slow.title": "DNS 解析很慢，每个域名超过 1 秒",
    "dns-slow.evidence": "{host}：解析用了 {seconds} 秒",
    "dns-slow.why": "一次安装要解析好几个主机（索引、文件服务器、PyTorch 索引、模型仓库），每次重试还要重新解析；"
                    "解析慢会让每一步都像是下载卡住了。",
    "tcp-blocked.title": "连不上 {hosts}",
    "tcp-blocked.why": "域名解析正常，但 TCP 连接被拒绝、超时或被重置：路上有东西把它拦掉了。pip 会等到超时再"
                       "重试，所以安装会先卡住很久才失败。",
    "tcp-blocked.note.firewall": "防火墙、运营商或需要网页登录的网络（captive portal）拦截了这个主机；如果你的网络"
                                 "需要代理，请设置：`export HTTPS_PROXY=http://HOST:PORT HTTP_PROXY=http://HOST:PORT`。",
    "tcp-blocked.note.ipv6": "该主机只有 IPv6 地址，而本机访问不了 IPv6：改用有 IPv4 地址的镜像源，或在当前网络上"
                             "开启 IPv6。",
    "tls-intercepted.title": "HTTPS 证书不受信任{issuer}",
    "tls-intercepted.title.issuer": "：签发者是 {issuer}",
    "tls-intercepted.evidence.issuer": "{host} 出示的证书签发者：{issuer}",
    "tls-intercepted.evidence.bundle": "{host} 使用的 CA 证书包：{bundle}（{source}）",
    "tls-intercepted.why": "这些主机出示的证书不是由工具所用证书包里的 CA 签发的。在公司网络里，这几乎都是做 TLS "
                           "检查的代理或防火墙用公司自己的根证书重新签发了 HTTPS 证书；把这个根证书加入系统信任，"
                           "一次设置，所有工具都生效。",
    "tls-intercepted.note.mismatch": "证书是发给另一个主机名的：可能是需要网页登录的网络（先在浏览器里登录）、DNS "
                                     "应答被劫持，或者镜像源 URL 里的主机名写错了。",
    "tls-intercepted.note.expired": "有证书已过期：需要服务器的管理员续期；也检查一下本机时间（`date`），系统时间"
                                    "不对会让有效的证书看起来已经过期。",
    "tls-intercepted.note.root-ca": "company-root-ca.crt 指证书链最顶端的根证书：向 IT 部门索取，或者在浏览器的证书"
                                    "查看器里从任意 HTTPS 网站导出。Fedora/RHEL：把它复制到 "
                                    "/etc/pki/ca-trust/source/anchors/，再运行 `sudo update-ca-trust`。",
    "tls-intercepted.note.never-off": "千万不要关闭证书校验（--trusted-host、verify=False）：那样会信任任何中间人，"
                                      "而不只是你们公司。",
    "tls-intercepted.note.self-signed": "如果签发者就是服务器自己（自签名证书的镜像源），请它的管理员换成正规证书，"
                                        "或者用同样的方法信任这张证书。",
    "http-forbidden.title": "请求被 {hosts} 拒绝（401/403）",
    "http-forbidden.why": "服务器（或它前面的代理）有响应但拒绝了请求：私有索引的凭据缺失或错误、代理策略屏蔽了"
                          "该主机，或者按地区封锁。",
    "http-forbidden.note.proxy": "中间隔着一个代理：请代理的管理员放行这些主机。",
    "http-forbidden.note.private": "私有索引的凭据可以写在 URL 里（https://USER:TOKEN@host/simple），或放在 "
                                   "keyring/.netrc 里；envdoctor 从不打印凭据。",
    "index-unreachable.title": "包索引不可用：{hosts}",
    "index-unreachable.why": "pip 解析每个包都需要一个正常工作的 simple 索引；索引报错或不响应，安装就会失败，"
                             "或者一直卡到 pip 超时。",
    "index-unreachable.note.404": "404：这个 URL 不是 simple 索引：pip 的 index-url 通常以 /simple 结尾"
                                  "（`pip config list` 可以看到它是在哪里设置的）。",
    "index-unreachable.note.5xx": "5xx：服务器（或镜像源的上游）出错了；稍后重试，或换一个索引。",
    "index-unreachable.note.silent": "服务器接受了连接却一直不响应：服务器已经挂了，或者防火墙放行了建立连接、"
                                     "之后却丢弃所有数据。",
    "index-unreachable.note.local": "find-links 或 file:// 索引指向的路径不存在：pip 只给一个警告就跳过，你放在那里"
                                    "的包都找不到。",
    "hf-endpoint-unreachable.title": "无法下载模型：{urls} 访问不了",
    "hf-endpoint-unreachable.why": "vLLM 启动时要从模型仓库下载权重和 tokenizer；访问不了就会报连接错误或卡住，"
                                   "即使安装本身已经成功。",
    "hf-endpoint-unreachable.note.offline": "也可以在能访问模型仓库的机器上下载模型，把 ~/.cache/huggingface/hub "
                                            "拷到本机，然后 `export HF_HUB_OFFLINE=1`。",
    "download-slow.check.title": "下载速度只有 {rate}：下载一个 torch wheel 要 {time}",
    "download-slow.evidence": "{label} {url}：从 {host} 下载 {size} 用了 {seconds} 秒，速度 {rate}：一个 {mb} MB "
                              "的 torch wheel 要 {time}",
    "download-slow.check.why": "单个文件下载越久，越容易被网络波动打断；不支持断点续传时 pip 会从头重新下载这个 wheel，"
                         "反复重下的构建可能卡上几个小时。",
    "download-slow.note.speed": "`envdoctor check --speed` 会用更大的样本测速（每个主机最多 32 MiB）。",
    "download-stalled.check.title": "下载中途卡住：{hosts}",
    "download-stalled.default-timeout": "15（默认值）",
    "download-stalled.check.why": "服务器或网络在传输文件的中途停止了发送。pip 等待 {timeout} 秒没有数据后，就会让整个"
                            "安装失败（\"Read timed out\"，第一位用户的 torch wheel 就断在 658/797 MB），除非它能"
                            "断点续传（pip >= 25.1 加 --resume-retries；25.2 起默认开启）。",
}
