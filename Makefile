# The two commands of the README. Both install libtorch 2.11 (from the PyTorch wheel) once per
# machine through scripts/with-torch, then build with cargo.
.PHONY: run build test bench lint

# Run the quickstart experiment end to end.
run: build
	scripts/with-torch target/release/munl run experiments/quickstart.munl

# Both executables: `munl` and its compute worker `munl-torch`, which stays next to it.
build:
	scripts/with-torch cargo build --release

# The whole test suite (what CI runs).
test:
	scripts/with-torch cargo test --all-targets

# Training-step throughput on this machine (see README, "Speed").
bench: build
	scripts/with-torch cargo bench --bench plan
	target/release/munl bench --arch cnn --device cpu
	target/release/munl bench --arch resnet18 --device cpu --steps 5

lint:
	cargo fmt --check
	scripts/with-torch cargo clippy --all-targets -- -D warnings
