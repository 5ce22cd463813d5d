#!/usr/bin/python3
"""PyTorch side of bench/explain.bench.ts.

  explain_torch.py DIR export          ResNet-18 (8 classes, seeded random weights, BN stats randomised) ->
                                       DIR/model.onnx (opset 13, dynamic batch; layer3/layer4 outputs named
                                       'target:layer3' / 'target:layer4'), DIR/weights.pt, DIR/input.npy [32,3,224,224]
  explain_torch.py DIR time B,B,.. S T images/s of forward-only and of two Grad-CAM baselines at layer4 and layer3,
                                       class 0, same weights/inputs; rounds interleaved, median per config, about S
                                       seconds per batch size, T torch threads. Prints one JSON line; also
                                       DIR/torch-gradcam-layer4.npy and DIR/pgc-gradcam-layer4.npy for batch 1 (to check
                                       ours against).
  explain_torch.py DIR whole IN.npy OUT.npy B T   the whole-process baseline of `glassbox explain`: this process
                                       builds the model, loads DIR/weights.pt and IN.npy, runs the pytorch-grad-cam
                                       recipe at layer4, class 0, B images per call on T threads and saves the raw
                                       maps [N, 7, 7] to OUT.npy (timed from outside, start to exit).

Baselines:
  pgc-*      the pytorch-grad-cam recipe (BaseCAM + ActivationsAndGradients + GradCAM), the primary "PyTorch Grad-CAM":
             a forward hook stores the target activation (.cpu().detach()) and registers a tensor hook that stores its
             gradient; model.zero_grad(); loss = sum over items of logit[class]; loss.backward(retain_graph=True) with
             the parameters requiring grad (so weight gradients are computed too, as in BaseCAM); in numpy: weights =
             spatial mean of the gradient, cam = ReLU(sum_k w_k A_k). Without pytorch-grad-cam's per-image min-max
             scaling and resize to the input size (ours returns raw maps at the layer's size).
  gradcam-*  a lean, stricter baseline: forward hook + torch.autograd.grad w.r.t. the target activation only (no weight
             gradients, no tensor hooks, no numpy round trip).
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision.models as tvm


def build(num_classes=8, seed=7):
    """torchvision ResNet-18 with seeded random weights and BN statistics (also used by analyze_torch.py)."""
    g = torch.Generator().manual_seed(seed)
    m = tvm.resnet18(num_classes=num_classes).eval()
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            with torch.no_grad():
                mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
                mod.weight.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
                mod.bias.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
        if hasattr(mod, 'inplace') and isinstance(mod.inplace, bool):
            mod.inplace = False
    return m


class Tapped(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.acts = {}
        net.layer3.register_forward_hook(lambda _m, _i, o: self.acts.__setitem__('layer3', o))
        net.layer4.register_forward_hook(lambda _m, _i, o: self.acts.__setitem__('layer4', o))

    def forward(self, x):
        y = self.net(x)
        return y, self.acts['layer4'], self.acts['layer3']


def export(d):
    import onnx
    torch.manual_seed(7)
    net = build()
    torch.save(net.state_dict(), os.path.join(d, 'weights.pt'))
    path = os.path.join(d, 'model.onnx')
    names = ['logits', 'target:layer4', 'target:layer3']
    torch.onnx.export(Tapped(net), torch.zeros(1, 3, 224, 224), path, input_names=['input'], output_names=names,
                      dynamic_axes={n: {0: 'batch'} for n in ['input'] + names}, opset_version=13, do_constant_folding=True)
    m = onnx.load(path)
    keep = [o for o in m.graph.output if o.name == 'logits']
    del m.graph.output[:]
    m.graph.output.extend(keep)
    onnx.save(m, path)
    x = torch.from_numpy(np.random.default_rng(7).standard_normal((32, 3, 224, 224)).astype(np.float32))
    np.save(os.path.join(d, 'input.npy'), x.numpy())


def timing(d, batches, seconds):
    net = build()
    net.load_state_dict(torch.load(os.path.join(d, 'weights.pt')))
    net.eval()
    acts = {}
    net.layer3.register_forward_hook(lambda _m, _i, o: acts.__setitem__('layer3', o))
    net.layer4.register_forward_hook(lambda _m, _i, o: acts.__setitem__('layer4', o))
    x_all = torch.from_numpy(np.load(os.path.join(d, 'input.npy')))

    def fwd(x):
        with torch.no_grad():
            return net(x)

    def gradcam(x, layer):
        logits = net(x)
        a = acts[layer]
        g, = torch.autograd.grad(logits[:, 0].sum(), a)
        return torch.relu((g.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1)).detach()

    # pytorch-grad-cam recipe (pytorch_grad_cam/activations_and_gradients.py + base_cam.py + grad_cam.py)
    pgc_net = build()
    pgc_net.load_state_dict(torch.load(os.path.join(d, 'weights.pt')))
    pgc_net.eval()
    for p in pgc_net.parameters():
        p.requires_grad_(True)
    store = {'layer': None, 'activations': [], 'gradients': []}

    def hook_for(name):
        def save(_m, _i, output):
            if store['layer'] != name:
                return
            store['activations'].append(output.cpu().detach())
            if not output.requires_grad:
                return

            def _store_grad(grad):
                store['gradients'] = [grad.cpu().detach()] + store['gradients']
            output.register_hook(_store_grad)
        return save
    pgc_net.layer3.register_forward_hook(hook_for('layer3'))
    pgc_net.layer4.register_forward_hook(hook_for('layer4'))

    def pgc(x, layer, category=0):
        store['layer'], store['activations'], store['gradients'] = layer, [], []
        outputs = pgc_net(x)
        pgc_net.zero_grad()
        loss = sum([output[category] for output in outputs])  # ClassifierOutputTarget(category) per item
        loss.backward(retain_graph=True)
        a = store['activations'][0].numpy()
        g = store['gradients'][0].numpy()
        weights = np.mean(g, axis=(2, 3))
        cam = (weights[:, :, None, None] * a).sum(axis=1)
        return np.maximum(cam, 0)

    np.save(os.path.join(d, 'torch-gradcam-layer4.npy'), gradcam(x_all[:1], 'layer4').numpy())
    np.save(os.path.join(d, 'pgc-gradcam-layer4.npy'), pgc(x_all[:1], 'layer4').astype(np.float32))
    out = {}
    for b in batches:
        x = x_all[:b]
        fns = {'forward': lambda: fwd(x), 'gradcam-layer4': lambda: gradcam(x, 'layer4'), 'gradcam-layer3': lambda: gradcam(x, 'layer3'),
               'pgc-layer4': lambda: pgc(x, 'layer4'), 'pgc-layer3': lambda: pgc(x, 'layer3')}
        for f in fns.values():
            f()  # warm-up
        times = {k: [] for k in fns}
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end or min(len(v) for v in times.values()) < 2:
            for k, f in fns.items():
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
        for k, v in times.items():
            out['%s@%d' % (k, b)] = b / float(np.median(v))
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'imgs_per_s': out}))


def whole(d, inp, out, batch):
    net = build()
    net.load_state_dict(torch.load(os.path.join(d, 'weights.pt')))
    net.eval()
    for p in net.parameters():
        p.requires_grad_(True)
    store = {'activations': [], 'gradients': []}

    def save(_m, _i, output):  # pytorch_grad_cam ActivationsAndGradients
        store['activations'].append(output.cpu().detach())

        def _store_grad(grad):
            store['gradients'] = [grad.cpu().detach()] + store['gradients']
        output.register_hook(_store_grad)
    net.layer4.register_forward_hook(save)
    x_all = torch.from_numpy(np.load(inp))
    maps = []
    for i in range(0, x_all.shape[0], batch):
        store['activations'], store['gradients'] = [], []
        outputs = net(x_all[i:i + batch])
        net.zero_grad()
        loss = sum([o[0] for o in outputs])  # ClassifierOutputTarget(0) per item
        loss.backward(retain_graph=True)
        a = store['activations'][0].numpy()
        g = store['gradients'][0].numpy()
        w = np.mean(g, axis=(2, 3))
        maps.append(np.maximum((w[:, :, None, None] * a).sum(axis=1), 0))
    np.save(out, np.concatenate(maps).astype(np.float32))


if __name__ == '__main__':
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    if sys.argv[2] == 'export':
        export(d)
    elif sys.argv[2] == 'whole':
        torch.set_num_threads(int(sys.argv[6]))
        whole(d, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        torch.set_num_threads(int(sys.argv[5]))
        timing(d, [int(b) for b in sys.argv[3].split(',')], float(sys.argv[4]))
