// munl's only C++: the part of libtorch's CUDA stream API that tch 0.24 does not expose.
//
// A node computed on the GPU runs on a stream of its own from libtorch's pool, so that the
// kernels of nodes computed at once (a search's trials, the seeds' final runs) overlap instead of
// queueing on the default stream. The surface is four functions; none lets a C++ exception
// cross into Rust. Only functions that libc10_cuda exports are called (no inline CUDA runtime
// calls), so the shim links against libtorch alone. Built by build.rs against the libtorch munl
// links (with MUNL_CUDA where that libtorch has CUDA), wrapped by src/torch/stream.rs.

#include <cstdint>

#ifdef MUNL_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

extern "C" {

#ifdef MUNL_CUDA
namespace {
// What `munl_stream_enter` replaced, to put back.
struct Saved {
    c10::cuda::CUDAStream previous;
};
}  // namespace
#endif

// Makes a stream from libtorch's pool the calling thread's current stream on CUDA device
// `device`, until `munl_stream_leave` of the returned handle (on the same thread). Returns null
// where there is no such device or no CUDA.
void* munl_stream_enter(int device) noexcept {
#ifdef MUNL_CUDA
    try {
        auto index = static_cast<c10::DeviceIndex>(device);
        auto saved = new Saved{c10::cuda::getCurrentCUDAStream(index)};
        c10::cuda::setCurrentCUDAStream(c10::cuda::getStreamFromPool(false, index));
        return saved;
    } catch (...) {
        return nullptr;
    }
#else
    (void)device;
    return nullptr;
#endif
}

// Restores the stream that was current before `munl_stream_enter`; null is ignored.
void munl_stream_leave(void* handle) noexcept {
#ifdef MUNL_CUDA
    auto saved = static_cast<Saved*>(handle);
    if (saved != nullptr) {
        try {
            c10::cuda::setCurrentCUDAStream(saved->previous);
        } catch (...) {
        }
        delete saved;
    }
#else
    (void)handle;
#endif
}

// The id of the calling thread's current stream on `device` (0: the default stream), or -1
// where there is no such device or no CUDA.
int64_t munl_stream_current(int device) noexcept {
#ifdef MUNL_CUDA
    try {
        return static_cast<int64_t>(c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device)).id());
    } catch (...) {
        return -1;
    }
#else
    (void)device;
    return -1;
#endif
}

// 1 if the shim was built with CUDA streams, else 0.
int munl_stream_compiled() noexcept {
#ifdef MUNL_CUDA
    return 1;
#else
    return 0;
#endif
}

}  // extern "C"
