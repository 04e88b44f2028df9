//! Device selection (`auto | cpu | cuda | cuda:N`) and the few device facts the backend needs.

use tch::Device;

use crate::artifact::NodeFailure;

/// Parses a device name; CUDA names are checked against the devices libtorch sees.
pub(crate) fn parse(name: &str) -> Result<Device, NodeFailure> {
    let cuda = |i: usize| {
        let count = tch::Cuda::device_count();
        if (i as i64) < count {
            Ok(Device::Cuda(i))
        } else if count == 0 {
            Err(NodeFailure::new(format!("device `{name}` requested but libtorch sees no CUDA device"))
                .with_help("use `--device cpu`, or check the GPU driver and that libtorch_cuda is linked"))
        } else {
            Err(NodeFailure::new(format!("device `{name}` does not exist: {count} CUDA device(s) visible")))
        }
    };
    match name {
        "auto" => Ok(Device::cuda_if_available()),
        "cpu" => Ok(Device::Cpu),
        "cuda" => cuda(0),
        _ => {
            match name.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(i)) => cuda(i),
                _ => Err(NodeFailure::new(format!("unknown device `{name}`"))
                    .with_help("use `auto`, `cpu`, `cuda` or `cuda:N`")),
            }
        }
    }
}

/// The device's name as recorded in `run.json` (`cpu`, `cuda:0`).
pub(crate) fn describe(device: Device) -> String {
    match device {
        Device::Cuda(i) => format!("cuda:{i}"),
        _ => "cpu".to_string(),
    }
}

/// Waits for the kernels this thread queued (its node's stream, `stream.rs`), so wall-clock
/// times cover the work and nothing waits for other nodes' kernels (a no-op on the CPU).
pub(crate) fn synchronize(device: Device) {
    if let Device::Cuda(i) = device {
        super::stream::synchronize(i);
    }
}
