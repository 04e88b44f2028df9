//! A CUDA stream of its own for each node computed on the GPU (the C++ shim in `shim/`): nodes
//! computed at once overlap their kernels instead of queueing on the default stream.
//!
//! The guard makes a stream from libtorch's pool current on the calling thread and restores the
//! previous one when dropped; it is not `Send`, so it is dropped on the thread that made it.
//! Tensors shared between nodes (the resident datasets) are complete before any node sees them
//! (the backend synchronises after loading one), and a node's own tensors live on its stream.

use std::ffi::{c_int, c_void};
use std::marker::PhantomData;

use tch::Device;

extern "C" {
    fn munl_stream_enter(device: c_int) -> *mut c_void;
    fn munl_stream_leave(guard: *mut c_void);
    fn munl_stream_current(device: c_int) -> i64;
    fn munl_stream_compiled() -> c_int;
}

/// The calling thread's own stream on a CUDA device, while it lives.
pub(crate) struct NodeStream {
    guard: *mut c_void,
    /// Not `Send`: the stream is the thread's.
    _thread: PhantomData<*mut c_void>,
}

impl Drop for NodeStream {
    fn drop(&mut self) {
        // SAFETY: `guard` came from `munl_stream_enter` on this thread (the type is not `Send`)
        // and is released exactly once, here.
        unsafe { munl_stream_leave(self.guard) }
    }
}

/// A stream of its own for the calling thread on `device`; `None` on the CPU, or where libtorch
/// has no CUDA or no such device (the default stream is used then).
pub(crate) fn own(device: Device) -> Option<NodeStream> {
    let Device::Cuda(index) = device else { return None };
    // SAFETY: the shim catches every C++ exception and returns null on failure.
    let guard = unsafe { munl_stream_enter(index as c_int) };
    (!guard.is_null()).then_some(NodeStream { guard, _thread: PhantomData })
}

/// The id of the calling thread's current stream on `device` (0: the default stream); `None`
/// on the CPU or without CUDA.
pub(crate) fn current(device: Device) -> Option<i64> {
    let Device::Cuda(index) = device else { return None };
    // SAFETY: as in `own`.
    let id = unsafe { munl_stream_current(index as c_int) };
    (id >= 0).then_some(id)
}

/// Waits for the work queued on the calling thread's current stream on CUDA device `index`, not
/// for other streams' (as a device-wide synchronisation would): a one-element copy to the host
/// is ordered after everything on the stream and waits for that stream alone.
pub(crate) fn synchronize(index: usize) {
    let _ = tch::Tensor::zeros([1], (tch::Kind::Float, Device::Cuda(index))).to_device(Device::Cpu);
}

/// Whether the shim was built with CUDA (the libtorch munl links has it).
pub(crate) fn compiled() -> bool {
    // SAFETY: no arguments, no state.
    unsafe { munl_stream_compiled() == 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CPU has no streams; with the wheel's CUDA libtorch the shim is built with them.
    #[test]
    fn no_stream_on_the_cpu_and_the_shim_has_cuda_where_libtorch_does() {
        assert!(own(Device::Cpu).is_none());
        assert_eq!(current(Device::Cpu), None);
        // A CUDA libtorch whose shim lacks CUDA means the runtime headers were not found
        // (build.rs): every node would share the default stream.
        let lib = std::path::Path::new(env!("MUNL_LIBTORCH_LIB"));
        assert_eq!(compiled(), lib.join("libc10_cuda.so").exists(), "libtorch in {}", lib.display());
    }

    /// On a GPU: each thread's node stream is its own, not the default one, and it is restored
    /// when the guard drops; the arithmetic on it equals the default stream's.
    #[test]
    fn each_thread_gets_its_own_stream_on_a_gpu() {
        if !tch::Cuda::is_available() {
            eprintln!("skipped: each_thread_gets_its_own_stream_on_a_gpu: no CUDA device");
            return;
        }
        let dev = Device::Cuda(0);
        assert_eq!(current(dev), Some(0), "the default stream first");
        let host = tch::Tensor::randn([256, 256], (tch::Kind::Float, Device::Cpu));
        let values = Vec::<f32>::try_from(host.reshape([-1])).unwrap();
        let x = host.to_device(dev);
        let expected = x.matmul(&x).sum(tch::Kind::Float).double_value(&[]);
        let ids: Vec<(i64, f64)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let stream = own(dev).expect("a stream from the pool");
                        let id = current(dev).unwrap();
                        let x = tch::Tensor::from_slice(&values).view([256, 256]).to_device(dev);
                        let got = x.matmul(&x).sum(tch::Kind::Float).double_value(&[]);
                        drop(stream);
                        assert_eq!(current(dev), Some(0), "restored");
                        (id, got)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|(id, _)| *id != 0), "{ids:?}");
        assert!(ids.iter().all(|(_, v)| (v - expected).abs() <= 1e-3 * expected.abs().max(1.0)), "{ids:?}");
    }
}
