"""A model's config.json and weight sizes from the Hugging Face hub, through `huggingface_hub`.

Honours what huggingface_hub users set: HF_ENDPOINT (a mirror or a private hub), HF_TOKEN (gated and
private repositories), the local cache (HF_HUB_CACHE / HF_HOME, where config.json is kept for the next
run) and HF_HUB_OFFLINE (cache only, no request). Every request has a timeout and the whole look-up a
deadline; each failure becomes one HubError sentence that says what to do, never a traceback or a hang.
"""
from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

REQUEST_TIMEOUT_S = 10.0  # each HTTP request
DEADLINE_S = 20.0  # the whole look-up (huggingface_hub may retry)
# Weight sizes for a config already cached are a refinement: never wait long for them.
WEIGHTS_TIMEOUT_S, WEIGHTS_DEADLINE_S = 4.0, 6.0
TRUE = ("1", "on", "true", "yes")
PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")  # the proxy resolves names then

# Bytes per element of the dtypes the hub's safetensors metadata counts.
DTYPE_BYTES = {"F64": 8, "I64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2, "U16": 2,
               "F8_E4M3": 1, "F8_E5M2": 1, "I8": 1, "U8": 1, "BOOL": 1}


class HubError(Exception):
    """The hub could not give a model's config; the message is one line for the person."""


@dataclass(frozen=True)
class Weights:
    """What the hub's safetensors metadata says about a checkpoint's tensors."""

    parameters: Tuple[Tuple[str, int], ...]  # (dtype, element count), as model info lists them
    total: int  # elements over all dtypes

    def bytes(self, sixteen_bit_floats: bool) -> int:
        """Bytes on the GPU: every element at its dtype's size. With `sixteen_bit_floats`, F32/F64
        tensors count 2 bytes, as vLLM loads an unquantized checkpoint in 16-bit."""
        size = 0
        for dtype, count in self.parameters:
            each = DTYPE_BYTES.get(dtype.upper(), 2)
            if sixteen_bit_floats and dtype.upper() in ("F32", "F64"):
                each = 2
            size += count * each
        return size


@dataclass(frozen=True)
class HubModel:
    repo_id: str
    config: Dict[str, Any]
    quantize_config: Optional[Dict[str, Any]]
    weights: Optional[Weights]  # None: offline, or the hub has no safetensors metadata for it
    source: str  # where the config came from, for the report
    note: Optional[str] = None  # what could not be read (said in the report, never silently)


def offline(env: Mapping[str, str]) -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE, which huggingface_hub honours too)."""
    return any(str(env.get(k, "")).strip().lower() in TRUE for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _follow(env: Mapping[str, str]) -> None:
    """huggingface_hub reads HF_HUB_OFFLINE once, when first imported: follow the environment asked about."""
    from huggingface_hub import constants

    constants.HF_HUB_OFFLINE = offline(env)


def endpoint(env: Mapping[str, str]) -> Optional[str]:
    return (env.get("HF_ENDPOINT") or "").rstrip("/") or None


def fetch(repo_id: str, env: Mapping[str, str], cache_dir: str, *, timeout: float = REQUEST_TIMEOUT_S,
          deadline: float = DEADLINE_S) -> HubModel:
    """config.json (and the weight sizes) of `repo_id`. Runs in a worker thread so that no stuck
    connection can outlast `deadline`; the thread is a daemon and dies with the process."""
    result: Dict[str, Any] = {}

    def work() -> None:
        try:
            result["model"] = _fetch(repo_id, env, cache_dir, timeout)
        except HubError as exc:
            result["error"] = exc
        except Exception as exc:  # noqa: BLE001 - anything huggingface_hub raises becomes one sentence
            result["error"] = HubError(_unexpected(repo_id, env, exc))

    worker = threading.Thread(target=work, name="envdoctor-hub", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        raise HubError(f"{repo_id}: the hub ({_where(env)}) did not answer within {deadline:g} s; check the "
                       "network or proxy, or set HF_HUB_OFFLINE=1 to use only what is cached")
    if "error" in result:
        raise result["error"]
    return result["model"]


def quiet() -> None:
    """huggingface_hub logs its retries ("Retrying in 1s") to stderr: envdoctor says one line itself."""
    import logging

    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)


def _errors():
    try:
        from huggingface_hub import errors  # huggingface_hub >= 0.23
    except ImportError:  # pragma: no cover - older releases kept them in utils
        from huggingface_hub import utils as errors
    return errors


def _fetch(repo_id: str, env: Mapping[str, str], cache_dir: str, timeout: float) -> HubModel:
    try:
        from huggingface_hub import HfApi, hf_hub_download
    except ImportError:
        raise HubError(f"{repo_id}: sizing a model from the hub needs huggingface_hub "
                       "(pip install huggingface_hub), or pass a local folder holding its config.json") from None
    errors = _errors()
    quiet()
    _follow(env)
    token = env.get("HF_TOKEN") or None
    local_only = offline(env)
    common = dict(cache_dir=cache_dir, token=token, endpoint=endpoint(env))

    def download(filename: str) -> str:
        return hf_hub_download(repo_id, filename, etag_timeout=timeout, local_files_only=local_only, **common)

    siblings: Tuple[str, ...] = ()
    weights: Optional[Weights] = None
    note = None
    # huggingface_hub retries a name that does not resolve for about 20 s: ask the cache at once instead.
    unresolved = None if local_only else _unresolvable(env)
    local_only = local_only or unresolved is not None
    try:
        if unresolved:
            note = f"{unresolved} does not resolve (DNS): the checkpoint's weight sizes were not asked of the hub"
        elif local_only:
            note = "HF_HUB_OFFLINE is set: the checkpoint's weight sizes were not asked of the hub"
        else:
            try:
                info = HfApi(endpoint=endpoint(env), token=token).model_info(repo_id, timeout=timeout,
                                                                              files_metadata=False)
            except (errors.RepositoryNotFoundError, errors.GatedRepoError):
                raise
            except Exception as exc:  # noqa: BLE001 - the config may still come from the cache
                info, note = None, f"the checkpoint's weight sizes could not be read ({_short(exc)})"
            if info is not None:
                siblings = tuple(s.rfilename for s in (info.siblings or ()))
                weights = _weights(getattr(info, "safetensors", None))
                if weights is None:
                    note = "the hub lists no safetensors metadata for it: weights counted from config.json"
        path = download("config.json")
        quant = None
        if "quantize_config.json" in siblings:  # older GPTQ uploads keep it apart
            quant = _json(download("quantize_config.json"), repo_id)
    except errors.GatedRepoError:
        raise HubError(_gated(repo_id, token)) from None
    except errors.RepositoryNotFoundError:
        raise HubError(f"{repo_id}: not found on the hub ({_where(env)})" + (
            "; if it is private, set HF_TOKEN to a token that can read it" if not token else
            "; HF_TOKEN is set, so check the name and that the token can read it")) from None
    except errors.LocalEntryNotFoundError:
        if unresolved:
            raise HubError(f"{repo_id}: the hub's host {unresolved} does not resolve (DNS) and its config.json is "
                           f"not cached ({cache_dir}); fix DNS (getent hosts {unresolved}) or set HF_ENDPOINT to "
                           "a mirror") from None
        if local_only:
            raise HubError(f"{repo_id}: HF_HUB_OFFLINE is set and its config.json is not in the Hugging Face "
                           f"cache ({cache_dir}); download it once online (huggingface-cli download {repo_id} "
                           "config.json) or unset HF_HUB_OFFLINE") from None
        raise HubError(f"{repo_id}: the hub ({_where(env)}) could not be reached and its config.json is not "
                       f"cached ({cache_dir}); check the network or proxy, or set HF_ENDPOINT to a mirror") from None
    except errors.EntryNotFoundError:
        raise HubError(f"{repo_id} has no config.json on the hub: it is not a transformers model vLLM can "
                       "size (for a GGUF or other format, pass a local folder with its config.json)") from None
    except errors.HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (401, 403):
            raise HubError(_gated(repo_id, token)) from None
        raise HubError(f"{repo_id}: the hub ({_where(env)}) answered HTTP {status or '?'}; try again later "
                       "or set HF_ENDPOINT to a mirror") from None
    return HubModel(repo_id, _json(path, repo_id), quant, weights, f"{path} (from the hub: {_where(env)})", note)


def _weights(safetensors: Any) -> Optional[Weights]:
    params = getattr(safetensors, "parameters", None) if safetensors is not None else None
    if isinstance(safetensors, dict):
        params = safetensors.get("parameters")
    if not isinstance(params, dict) or not params:
        return None
    pairs = tuple(sorted((str(k), int(v)) for k, v in params.items() if isinstance(v, int) and v > 0))
    return Weights(pairs, sum(v for _, v in pairs)) if pairs else None


def _json(path: str, repo_id: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise HubError(f"{repo_id}: the config the hub sent cannot be read ({exc})") from None
    if not isinstance(data, dict):
        raise HubError(f"{repo_id}: the config the hub sent is not a JSON object")
    return data


def _gated(repo_id: str, token: Optional[str]) -> str:
    if token:
        return (f"{repo_id} is gated and HF_TOKEN cannot read it: accept its licence on the model's hub page "
                "with the account the token belongs to")
    return (f"{repo_id} is gated: accept its licence on the model's hub page, then set HF_TOKEN to a read "
            "token of that account (export HF_TOKEN=hf_...)")


def _unresolvable(env: Mapping[str, str]) -> Optional[str]:
    """The hub's host name when it does not resolve here; None when it does, or a proxy resolves it."""
    from urllib.parse import urlsplit

    from huggingface_hub import constants

    if any(env.get(k) for k in PROXY_VARS):
        return None
    host = urlsplit(endpoint(env) or constants.ENDPOINT).hostname
    if not host:
        return None
    try:
        socket.getaddrinfo(host, None)
    except socket.gaierror:
        return host
    except (OSError, UnicodeError):
        return None  # not a name lookup failure: let the request say what is wrong
    return None


def _where(env: Mapping[str, str]) -> str:
    return endpoint(env) or "the default Hugging Face endpoint"


def weights_only(repo_id: str, env: Mapping[str, str], *, timeout: float = WEIGHTS_TIMEOUT_S,
                 deadline: float = WEIGHTS_DEADLINE_S) -> Tuple[Optional[Weights], Optional[str]]:
    """The weight sizes of a repository whose config is already cached: (weights, note why not)."""
    if offline(env):
        return None, "HF_HUB_OFFLINE is set: the checkpoint's weight sizes were not asked of the hub"
    result: Dict[str, Any] = {}

    def work() -> None:
        try:
            from huggingface_hub import HfApi

            quiet()
            _follow(env)
            unresolved = _unresolvable(env)
            if unresolved:
                result["note"] = f"{unresolved} does not resolve (DNS): weights counted from config.json"
                return
            info = HfApi(endpoint=endpoint(env), token=env.get("HF_TOKEN") or None).model_info(
                repo_id, timeout=timeout)
            result["weights"] = _weights(getattr(info, "safetensors", None))
        except Exception as exc:  # noqa: BLE001 - the cached config is enough to size it
            result["note"] = f"the checkpoint's weight sizes could not be read ({_short(exc)})"

    worker = threading.Thread(target=work, name="envdoctor-hub", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        return None, f"the hub did not answer within {deadline:g} s: weights counted from config.json"
    if result.get("weights") is None and "note" not in result:
        result["note"] = "the hub lists no safetensors metadata for it: weights counted from config.json"
    return result.get("weights"), result.get("note")


def _short(exc: Exception) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:120]
    return type(exc).__name__ + (f": {first}" if first else "")


def _unexpected(repo_id: str, env: Mapping[str, str], exc: Exception) -> str:
    kind = type(exc).__name__
    if "timeout" in kind.lower():
        return (f"{repo_id}: the hub ({_where(env)}) did not answer in time; check the network or proxy, or set "
                "HF_HUB_OFFLINE=1 to use only what is cached")
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{repo_id}: asking the hub ({_where(env)}) failed: {kind}" + (f": {first}" if first else "")
