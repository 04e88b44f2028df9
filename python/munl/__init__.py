"""munl's Python side: what an unlearning method written in PyTorch gets from munl.

A method is a function in a Python file, declared in a `.munl` file with
`unlearn mine = python("methods/mine.py")(original) { lr = 0.01 }`:

    def unlearn(model, data, *, lr: float = 0.01, epochs: int = 3):
        ...
        return model

`model` is a `torch.nn.Module` holding the Original's weights (`munl.models` builds munl's
architectures with munl's parameter names), on `data.device`. `data` is a `munl.Data`: the
retain, forget and validation sets as munl holds them, batched on the device in munl's exact
order (`data.retain(batch)` draws the same permutation a built-in method's pass would). The
keyword-only parameters are the method's fields: typed by their annotation or default, checked
by `munl check`, searchable with distributions. munl runs the file itself: nothing to install.
"""

from .data import Data, Pass

__all__ = ["Data", "Pass"]
