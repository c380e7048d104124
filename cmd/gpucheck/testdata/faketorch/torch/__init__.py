"""A stand-in for the parts of PyTorch that scripts/torch-profile.py uses,
so that its plumbing runs where there is no torch (TestTorchProfileScript).
Every replay "takes" 1 to 1.01 ms; nothing is computed."""
import contextlib
import random
import types

__version__ = "fake"
uint8 = "uint8"
backends = types.SimpleNamespace(
    cuda=types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=True)),
    cudnn=types.SimpleNamespace(allow_tf32=True, benchmark=False),
)


class Tensor:
    def __init__(self, n):
        self.n = n

    def numel(self):
        return self.n

    def element_size(self):
        return 4

    def copy_(self, other, non_blocking=False):
        return self


def manual_seed(seed):
    random.seed(seed)


@contextlib.contextmanager
def no_grad():
    yield


def randn(*shape, device=None):
    n = 1
    for s in shape:
        n *= s
    return Tensor(n)


def empty(n, dtype=None, pin_memory=False, device=None):
    return Tensor(n)


class _Event:
    def __init__(self, enable_timing=False):
        pass

    def record(self):
        pass

    def synchronize(self):
        pass

    def elapsed_time(self, end):
        return 1 + random.random() / 100


class _Stream:
    def wait_stream(self, other):
        pass


class _Graph:
    def replay(self):
        pass


class _Cuda:
    Event = _Event
    Stream = _Stream
    CUDAGraph = _Graph

    def is_available(self):
        return True

    def get_device_name(self):
        return "Fake GPU"

    def current_stream(self):
        return _Stream()

    @contextlib.contextmanager
    def stream(self, s):
        yield

    @contextlib.contextmanager
    def graph(self, g):
        yield

    def synchronize(self):
        pass

    def empty_cache(self):
        pass


cuda = _Cuda()
