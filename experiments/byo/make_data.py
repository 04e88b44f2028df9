"""Writes `experiments/byo/data/mnist.npz` from the official MNIST files: the arrays a researcher
would bring (`np.savez(f, x_train=…, y_train=…, x_test=…, y_test=…)`, uint8 images [N, 28, 28]).

    python experiments/byo/make_data.py [MNIST_FOLDER]

MNIST_FOLDER holds the four official `*-ubyte.gz` files (default: `$MUNL_DATA/mnist`, else
`data/mnist`; `munl run experiments/quickstart.munl` fetches them there). Only the first 6 000
train and 1 000 test images are kept: the experiment uses 3 000 of them.
"""

import gzip
import os
import sys

import numpy as np

KEEP_TRAIN, KEEP_TEST = 6000, 1000


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    default = os.path.join(os.environ.get("MUNL_DATA", "data"), "mnist")
    folder = sys.argv[1] if len(sys.argv) > 1 else default
    read = lambda name: idx(os.path.join(folder, name))  # noqa: E731
    arrays = {
        "x_train": read("train-images-idx3-ubyte.gz")[:KEEP_TRAIN],
        "y_train": read("train-labels-idx1-ubyte.gz")[:KEEP_TRAIN].astype(np.int64),
        "x_test": read("t10k-images-idx3-ubyte.gz")[:KEEP_TEST],
        "y_test": read("t10k-labels-idx1-ubyte.gz")[:KEEP_TEST].astype(np.int64),
    }
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "mnist.npz")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    np.savez(out + ".partial.npz", **arrays)
    os.replace(out + ".partial.npz", out)
    print(f"wrote {out}: " + ", ".join(f"{k} {list(v.shape)}" for k, v in arrays.items()))


if __name__ == "__main__":
    main()
