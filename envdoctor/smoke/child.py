# Runs INSIDE the target interpreter (python -c): a real vLLM generation. Reads its
# spec as JSON on stdin; prints "@@envdoctor {json}" marker lines for each phase, which
# the parent times and parses; vLLM's own log lines go to the same stream. Keep this
# free of envdoctor imports and of syntax newer than the target Python.
import json
import os
import sys
import time
import traceback

if sys.path and sys.path[0] in ("", os.getcwd()):
    sys.path.pop(0)


def emit(phase, **data):
    data["phase"] = phase
    sys.stdout.write("@@envdoctor " + json.dumps(data) + "\n")
    sys.stdout.flush()


def version_of(name):
    try:
        from importlib import metadata
        return metadata.version(name)
    except Exception:
        return None


def main():
    spec = json.loads(sys.stdin.read())
    for key, value in spec.get("env", {}).items():
        os.environ[key] = value
    emit("start", python=sys.version.split()[0], pid=os.getpid())
    t = time.perf_counter()
    from vllm import LLM, SamplingParams
    emit("imported", seconds=round(time.perf_counter() - t, 3), vllm=version_of("vllm"),
         torch=version_of("torch"))
    t = time.perf_counter()
    llm = LLM(**spec["llm_kwargs"])
    emit("engine_ready", seconds=round(time.perf_counter() - t, 3))
    if spec.get("prompt_token_ids"):
        prompt = {"prompt_token_ids": spec["prompt_token_ids"]}
    else:
        prompt = spec["prompt"]
    first = SamplingParams(max_tokens=1, temperature=0.0, ignore_eos=True)
    t = time.perf_counter()
    llm.generate([prompt], first, use_tqdm=False)
    emit("first_token", seconds=round(time.perf_counter() - t, 3))
    params = SamplingParams(max_tokens=spec["max_tokens"], temperature=0.0, ignore_eos=True)
    t = time.perf_counter()
    out = llm.generate([prompt], params, use_tqdm=False)
    seconds = time.perf_counter() - t
    completion = out[0].outputs[0]
    emit("generated", seconds=round(seconds, 3), token_ids=list(completion.token_ids),
         text=getattr(completion, "text", None) or None)
    try:  # stop the engine core before the interpreter exits
        llm.llm_engine.engine_core.shutdown()
    except Exception:
        pass


try:
    main()
except BaseException as exc:  # the parent classifies it; say exactly what happened
    traceback.print_exc(file=sys.stdout)  # as plain lines too, for the log and `envdoctor explain`
    emit("error", type=type(exc).__name__, message=str(exc)[:4000],
         traceback=traceback.format_exc()[-6000:])
    sys.stdout.flush()
    os._exit(1)
os._exit(0)  # do not wait for engine threads that may linger after shutdown
