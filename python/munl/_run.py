"""Runs one Python method for munl's worker: `python -m munl._run REQUEST.json`.

The request (JSON, written by munl) names the method's file and function, its fields, the
device and seed, the architecture, the Original's weights (safetensors), the dataset as munl
stores it, the split, and where to write the unlearned weights and the reply. The reply (JSON)
says how it went: the method's own time, its per-epoch losses and divergence, or the Python
exception with the file and line in the method's code where it happened. Weights travel as
safetensors, never as pickles. Everything the method prints goes to the node's log.
"""

import importlib.util
import json
import math
import os
import random
import sys
import time
import traceback

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from . import models
from .data import Data


class BadModel(Exception):
    """The method returned something munl cannot store as the unlearned model."""


def load_module(path, function):
    folder = os.path.dirname(os.path.abspath(path))
    # The method's own folder first: its local modules import as they would when run there.
    sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    fn = getattr(module, function, None)
    if not callable(fn):
        raise BadModel(f"`{path}` defines no `{function}`")
    return fn


def check_model(result, expected, probe, classes):
    """The returned model must be a module with exactly the Original's tensors and classify."""
    if not isinstance(result, torch.nn.Module):
        raise BadModel(f"the method returned {type(result).__name__}, not a torch.nn.Module: return the unlearned model")
    got = {k: tuple(v.shape) for k, v in result.state_dict().items()}
    want = {k: tuple(v.shape) for k, v in expected.items()}
    problems = []
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want]
    if missing:
        problems.append(f"missing {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}")
    if extra:
        problems.append(f"unexpected {', '.join(extra[:5])}{' …' if len(extra) > 5 else ''}")
    shapes = [f"{k} is {list(got[k])}, not {list(want[k])}" for k in want if k in got and got[k] != want[k]]
    problems += shapes[:5]
    if problems:
        raise BadModel(
            "the returned model's state dict differs from the architecture's: " + "; ".join(problems)
            + " (munl keeps the architecture's parameter names: change the weights in place, or load"
            " them into `munl.models.build(...)`)"
        )
    was_training = result.training
    result.eval()
    with torch.no_grad():
        out = result(probe)
    result.train(was_training)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (probe.shape[0], classes):
        shape = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise BadModel(f"the returned model's output for a batch of {probe.shape[0]} is {shape}, not [{probe.shape[0]}, {classes}] logits")


def where_in(tb, folder):
    """The innermost frame of the traceback that is in the method's folder: file, line."""
    frames = [f for f in traceback.extract_tb(tb) if os.path.abspath(f.filename).startswith(folder + os.sep)]
    if not frames:
        return None, None
    f = frames[-1]
    return os.path.relpath(f.filename, folder), f.lineno


def failure(e, folder):
    """The reply for an exception: munl's complaint about what the code returned, or the code's
    own exception with the place in the user's folder where it happened."""
    if isinstance(e, BadModel):
        return {"ok": False, "kind": "bad_model", "message": str(e)}
    traceback.print_exc()
    file, line = where_in(e.__traceback__, folder)
    return {
        "ok": False,
        "kind": "exception",
        "type": type(e).__name__,
        "message": str(e),
        "file": file,
        "line": line,
        "traceback": "".join(traceback.format_exception(type(e), e, e.__traceback__)),
    }


def write_reply(path, reply):
    """Writes the reply whole or not at all (munl reads a missing one as a crash)."""
    with open(path + ".partial", "w") as f:
        json.dump(reply, f, allow_nan=False)
    os.replace(path + ".partial", path)


def main(request_path):
    with open(request_path) as f:
        req = json.load(f)
    reply = {"ok": False}
    folder = os.path.dirname(os.path.abspath(req["file"]))
    try:
        torch.manual_seed(req["seed"])
        random.seed(req["seed"])
        np.random.seed(req["seed"] % 2**32)
        device = torch.device(req["device"])
        arch = req["arch"]
        if arch["name"] == "custom":
            # A custom architecture travels as munl's TorchScript wrapper of the user's module.
            model = torch.jit.load(arch["module"], map_location="cpu").inner
        else:
            model = models.build(arch["name"], num_classes=req["classes"], **arch["args"])
        weights = load_file(req["model"])
        model.load_state_dict(weights, strict=True)
        model.to(device)
        stored = load_file(req["dataset"])
        facts = req["facts"]
        data = Data(
            stored["images"], stored["labels"], facts["mean"], facts["std"], facts["augment"],
            req["split"], req["classes"], device, req["seed"],
        )
        fn = load_module(req["file"], req["function"])
        probe_index = data.retain_indices[:2] if len(data.retain_indices) else torch.arange(2, device=device)
        probe, _ = data._batch(data.ordered(probe_index.cpu().numpy(), 2), 0, len(probe_index))
        expected = {k: v for k, v in model.state_dict().items()}
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        result = fn(model, data, **req["fields"])
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        check_model(result, expected, probe, req["classes"])
        state = {k: v.detach().to("cpu").contiguous() for k, v in result.state_dict().items()}
        save_file(state, req["out"])
        # JSON has no NaN: a non-finite loss travels as null (munl reads it as NaN).
        losses = [x if math.isfinite(x) else None for x in data.losses]
        reply = {"ok": True, "seconds": seconds, "losses": losses, "diverged": data.diverged}
    except BaseException as e:  # noqa: BLE001 - every failure goes back to munl as data
        reply = failure(e, folder)
    write_reply(req["reply"], reply)


if __name__ == "__main__":
    main(sys.argv[1])
