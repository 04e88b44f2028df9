"""Builds a custom architecture's initial model for munl: `python -m munl._script REQUEST.json`.

A model declared `model net = python("models/net.py", class: "Net") { width = 16 }` is the
class `Net` of that file, constructed as `Net(num_classes, width=16)` under `torch.manual_seed`
of the run's seed. munl trains it with its own trainer, in the worker, through TorchScript: this
writes `module.pt` (the module scripted inside a wrapper whose `munl_buffers()` hands munl the
live buffers, BatchNorm statistics and the like, which TorchScript does not list), `module.json`
(the parameters' and buffers' names) and `model.safetensors` (the initial weights).
"""

import importlib.util
import json
import os
import sys
import tempfile

import torch
from safetensors.torch import save_file

from ._run import BadModel, failure, load_module, write_reply

WRAPPER = '''import torch
from typing import List


class Wrap(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x)

    @torch.jit.export
    def munl_buffers(self) -> List[torch.Tensor]:
        return [{buffers}]
'''


def attribute_chain(name):
    """`features.1.running_mean` as nested constant `getattr`s, which TorchScript resolves."""
    expr = "self.inner"
    for part in name.split("."):
        expr = f"getattr({expr}, {part!r})"
    return expr


def script(inner):
    """`inner` scripted inside munl's wrapper (generated into a file: TorchScript compiles
    from source it can read back)."""
    buffers = [n for n, _ in inner.named_buffers()]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "munl_wrap.py")
        with open(path, "w") as f:
            f.write(WRAPPER.format(buffers=", ".join(attribute_chain(n) for n in buffers)))
        spec = importlib.util.spec_from_file_location("munl_wrap", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return torch.jit.script(module.Wrap(inner)), buffers


def main(request_path):
    with open(request_path) as f:
        req = json.load(f)
    folder = os.path.dirname(os.path.abspath(req["file"]))
    try:
        torch.manual_seed(req["seed"])
        cls = load_module(req["file"], req["class"])
        inner = cls(req["classes"], **req["fields"])
        if not isinstance(inner, torch.nn.Module):
            raise BadModel(f"`{req['class']}` is not a torch.nn.Module")
        try:
            scripted, buffers = script(inner)
        except Exception as e:  # noqa: BLE001
            raise BadModel(f"`{req['class']}` cannot be compiled to TorchScript, which munl trains it through: {e}") from e
        out = req["out"]
        scripted.save(os.path.join(out, "module.pt"))
        with open(os.path.join(out, "module.json"), "w") as f:
            json.dump({"params": [n for n, _ in inner.named_parameters()], "buffers": buffers}, f)
        save_file({k: v.detach().contiguous() for k, v in inner.state_dict().items()}, os.path.join(out, "model.safetensors"))
        reply = {"ok": True}
    except BaseException as e:  # noqa: BLE001 - every failure goes back to munl as data
        reply = failure(e, folder)
    write_reply(req["reply"], reply)


if __name__ == "__main__":
    main(sys.argv[1])
