# The two commands of the README. Both install libtorch 2.11 (from the PyTorch wheel) once per
# machine through scripts/with-torch, then build with cargo.
.PHONY: run test bench lint

# Run the quickstart experiment end to end.
run:
	scripts/with-torch cargo run --release --quiet -- run experiments/quickstart.munl

# The whole test suite (what CI runs).
test:
	scripts/with-torch cargo test --all-targets

# Training-step throughput on this machine (see README, "Speed").
bench:
	scripts/with-torch cargo run --release --quiet -- bench --arch cnn --device cpu
	scripts/with-torch cargo run --release --quiet -- bench --arch resnet18 --device cpu --steps 5

lint:
	cargo fmt --check
	scripts/with-torch cargo clippy --all-targets -- -D warnings
