"""A test-only fake of ``pycuda`` (``pycuda.driver``): exactly the API subset lanecam uses.

It models what makes real pycuda code fail in threads: a per-thread context
stack, primary vs created contexts, memory calls that need a current context, asynchronous
copies that only land at ``Stream.synchronize()``, and it records the thread and current
context of every call so tests can check the discipline.
"""

import itertools
import threading
import types
from typing import Dict, List

import numpy as np


class LogicError(RuntimeError):
    """pycuda.driver.LogicError."""


class FakeGPU:
    """State of one fake machine: devices, memory, contexts, and the call log."""

    def __init__(self, name="Fake Orin", cc=(8, 7), count=1):
        self.name, self.cc, self.count = name, cc, count
        self.calls: List[tuple] = []                     # (call, thread ident, context id)
        self.memory: Dict[int, np.ndarray] = {}          # device address -> bytes
        self.pinned_ids = set()                          # id() of pagelocked host arrays
        self._next_addr = itertools.count(0x10000, 0x10000)
        self._local = threading.local()
        self.primary = {}                                # device -> primary context
        self.made_contexts = 0
        self.threads_exited_with_context: List[int] = []

    # per-thread context stack, as in the CUDA driver
    def stack(self) -> list:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        return self._local.stack

    def current(self):
        st = self.stack()
        return st[-1] if st else None

    def record(self, call: str):
        ctx = self.current()
        self.calls.append((call, threading.get_ident(), None if ctx is None else ctx.id))

    def need_context(self, what: str):
        if self.current() is None:
            raise LogicError(f"{what} failed: explicit_context_dependent failed: invalid device "
                             "context - no currently active context?")

    def live_allocations(self) -> int:
        return len(self.memory)


def make_module(gpu: FakeGPU):
    """(pycuda package module, pycuda.driver module) bound to ``gpu``."""
    ctx_ids = itertools.count(1)

    class Context:
        def __init__(self, device, primary):
            self.id, self.device, self.primary = next(ctx_ids), device, primary

        def push(self):
            gpu.stack().append(self)
            gpu.record("Context.push")

        def pop(self):  # pycuda: pops the current context of this thread
            gpu.record("Context.pop")
            if not gpu.stack():
                raise LogicError("cuCtxPopCurrent failed: context stack is empty")
            gpu.stack().pop()

        def detach(self):
            gpu.record("Context.detach")

    class Device:
        def __init__(self, index):
            if not driver._initialized:
                raise LogicError("cuDeviceGet failed: initialization error (call init() first)")
            if not 0 <= index < gpu.count:
                raise LogicError(f"cuDeviceGet failed: invalid device ordinal {index}")
            self.index = index

        def name(self):
            return gpu.name

        def compute_capability(self):
            return gpu.cc

        def retain_primary_context(self):
            gpu.record("Device.retain_primary_context")
            return gpu.primary.setdefault(self.index, Context(self.index, True))

        def make_context(self):  # what pycuda.autoinit does: a NEW context, pushed
            gpu.made_contexts += 1
            ctx = Context(self.index, False)
            ctx.push()
            return ctx

    class DeviceAllocation:
        def __init__(self, addr, nbytes):
            self.addr, self.nbytes = addr, nbytes

        def __int__(self):
            return self.addr

        def free(self):
            gpu.record("DeviceAllocation.free")
            gpu.need_context("cuMemFree")
            gpu.memory.pop(self.addr, None)

    class Stream:
        def __init__(self):
            gpu.need_context("cuStreamCreate")
            gpu.record("Stream")
            self.handle = next(gpu._next_addr)           # never 0: 0 is the default stream
            self.pending = []
            self.context = gpu.current()
            gpu.streams[self.handle] = self

        def enqueue(self, op):
            self.pending.append(op)

        def synchronize(self):
            gpu.record("Stream.synchronize")
            gpu.need_context("cuStreamSynchronize")
            ops, self.pending = self.pending, []
            for op in ops:
                op()

    gpu.streams = {}

    def init():
        driver._initialized = True

    def pagelocked_empty(shape, dtype):
        gpu.record("pagelocked_empty")
        gpu.need_context("cuMemHostAlloc")
        arr = np.empty(shape, dtype)
        gpu.pinned_ids.add(id(arr))
        return arr

    def mem_alloc(nbytes):
        gpu.record("mem_alloc")
        gpu.need_context("cuMemAlloc")
        addr = next(gpu._next_addr)
        gpu.memory[addr] = np.zeros(int(nbytes), np.uint8)
        return DeviceAllocation(addr, int(nbytes))

    def _stream_of(stream):
        if not isinstance(stream, Stream):
            raise LogicError("async copy without a Stream (default stream)")
        return stream

    def memcpy_htod_async(dest, src, stream=None):
        gpu.record("memcpy_htod_async")
        gpu.need_context("cuMemcpyHtoDAsync")
        if id(src) not in gpu.pinned_ids:
            raise LogicError("fake: async copy from pageable host memory (not pagelocked)")
        data = np.frombuffer(np.ascontiguousarray(src).tobytes(), np.uint8).copy()
        buf = gpu.memory[int(dest)]
        _stream_of(stream).enqueue(lambda: buf.__setitem__(slice(0, data.size), data))

    def memcpy_dtoh_async(dest, src, stream=None):
        gpu.record("memcpy_dtoh_async")
        gpu.need_context("cuMemcpyDtoHAsync")
        if id(dest) not in gpu.pinned_ids:
            raise LogicError("fake: async copy into pageable host memory (not pagelocked)")
        buf = gpu.memory[int(src)]

        def land():
            dest.reshape(-1).view(np.uint8)[:] = buf[:dest.nbytes]
        _stream_of(stream).enqueue(land)

    driver = types.ModuleType("pycuda.driver")
    driver._initialized = False
    for obj in (LogicError, Context, Device, DeviceAllocation, Stream, init, pagelocked_empty,
                mem_alloc, memcpy_htod_async, memcpy_dtoh_async):
        setattr(driver, obj.__name__, obj)
    package = types.ModuleType("pycuda")
    package.__path__ = []
    package.driver = driver
    return package, driver
