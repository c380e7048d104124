"""A stand-in for torchvision.models (see ../torch): resnet50 and
mobilenet_v2 with their parameter counts, outputs of 1000 classes."""
import types

import torch


class _Model:
    def __init__(self, params):
        self.params = params

    def cuda(self):
        return self

    def eval(self):
        return self

    def parameters(self):
        return [torch.Tensor(self.params)]

    def buffers(self):
        return [torch.Tensor(10)]

    def __call__(self, x):
        return torch.Tensor(x.n // (3 * 224 * 224) * 1000)


def _model(params):
    return lambda weights=None: _Model(params)


models = types.SimpleNamespace(resnet50=_model(25_557_032), mobilenet_v2=_model(3_504_872))
