#!/usr/bin/python3
"""PyTorch reference maps for the Grad-CAM conformance suite (test/explain/conformance.test.ts).

usage: /usr/bin/python3 make_reference.py OUT_DIR [--only NAME,NAME] [--patches DIR]

For each model family: build a small torchvision model with random, non-trivial weights (BatchNorm running
stats and affine params randomised too), replace in-place ReLUs, export to ONNX (dynamic batch,
do_constant_folding=True) with the hooked target-module outputs named `target:<module path>` in the graph,
then compute reference maps with forward hooks + torch.autograd.grad, as pytorch-grad-cam does, in float64
(the model's float32 weights cast to double: the exact function the float32 ONNX model computes).

Calibrated families (with --patches DIR, the shared H&E patches): full-size torchvision models at 224 px with their
default initialisation and BatchNorm statistics calibrated by a train-mode pass over real H&E crops (cumulative
average: the regime of a real model rather than random weights); inputs are two real crops; the one-hot seed is
item 0's second-ranked class.

Besides the maps, for every layer and seed: the float64 A and dS/dA (<layer>-A.npy, <layer>-<seed>-G.npy), and
PyTorch float32's own errors on A, dS/dA, the saliency map and every CAM map: max abs error and relative RMS error,
the largest over its plain float32 draws (NCHW and channels-last kernels: torch32_error, torch32_rms) and over
dithered draws that flip the case's near-kink units (dither_error, dither_rms; see build()), so the test can check
the backward graph itself against float64 with bounds derived from PyTorch float32 on the same case.

Writes OUT_DIR/<model>/{model.onnx,input.npy,logits.npy,seed-<k>.npy,<layer>-<seed>-<method>.npy}
and OUT_DIR/manifest.json. Methods: gradcam (ReLU'd), gradcam-signed, hirescam, gradcam++, xgradcam,
layercam, eigencam (raw first-PC projection, signed: SVD sign is arbitrary), saliency. Formulas are
pytorch-grad-cam's, without its per-image min-max scaling.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
from torchvision.models import convnext as tv_convnext
from torchvision.models import vgg as tv_vgg

import onnx

# one thread: on a loaded 2-core machine OpenMP spin-waiting made the float64 convs 50x slower
torch.set_num_threads(1)
NUM_CLASSES = 5
SIZE = 96
BATCH = 2


# ----------------------------------------------------------------------------------------------- models
class DenseNetNoInplace(nn.Module):
    """torchvision DenseNet with its functional in-place ReLU (after norm5) made a module, so it can be hooked."""

    def __init__(self, **kw):
        super().__init__()
        d = tvm.DenseNet(**kw)
        self.features = d.features
        self.relu = nn.ReLU()
        self.classifier = d.classifier

    def forward(self, x):
        out = self.relu(self.features(x))
        out = F.adaptive_avg_pool2d(out, (1, 1))
        return self.classifier(torch.flatten(out, 1))


def small_vgg():
    cfg = [16, 'M', 32, 'M', 64, 64, 'M', 96, 96, 'M', 128, 128, 'M']
    m = tv_vgg.VGG(tv_vgg.make_layers(cfg, batch_norm=True), num_classes=NUM_CLASSES, init_weights=True)
    # 96 px input -> 3x3 after five max-pools: keep the spatial map and flatten into the head (Flatten -> Gemm)
    m.avgpool = nn.Identity()
    m.classifier = nn.Sequential(nn.Linear(128 * 3 * 3, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, NUM_CLASSES))
    return m


def small_convnext():
    C = tv_convnext.CNBlockConfig
    return tv_convnext.ConvNeXt([C(24, 48, 1), C(48, 96, 2), C(96, None, 2)], layer_scale=0.5, num_classes=NUM_CLASSES)


# name: (constructor, input size, opset, [target module paths], note)
FAMILIES = {
    'resnet18': (lambda: tvm.resnet18(num_classes=NUM_CLASSES), SIZE, 13, ['layer4', 'layer3', 'layer2.0.bn1'], 'torchvision resnet18, full width'),
    'vgg11_bn': (small_vgg, SIZE, 13, ['features.27', 'features.20'], 'VGG11-BN layout, widths /4, 3x3 map flattened into a Linear head'),
    'mobilenet_v2': (lambda: tvm.mobilenet_v2(num_classes=NUM_CLASSES, width_mult=0.5), SIZE, 14, ['features.18', 'features.14'], 'width 0.5 (ReLU6 = Clip)'),
    'mobilenet_v3_small': (lambda: tvm.mobilenet_v3_small(num_classes=NUM_CLASSES), SIZE, 14, ['features.12', 'features.8'], 'HardSwish/HardSigmoid, SE'),
    'efficientnet_b0': (lambda: tvm.efficientnet_b0(num_classes=NUM_CLASSES), SIZE, 17, ['features.8', 'features.5'], 'SiLU = Sigmoid*Mul, SE'),
    'shufflenet_v2': (lambda: tvm.shufflenet_v2_x0_5(num_classes=NUM_CLASSES), SIZE, 13, ['conv5', 'stage3'], 'x0.5: channel shuffle Reshape/Transpose, chunk -> Split/Slice, Concat'),
    'squeezenet1_1': (lambda: tvm.squeezenet1_1(num_classes=NUM_CLASSES), SIZE, 13, ['features.12', 'features.7'], 'Fire modules (Concat), conv head + ReLU + global pool'),
    'googlenet': (lambda: tvm.googlenet(num_classes=NUM_CLASSES, aux_logits=False, init_weights=True, transform_input=False), SIZE, 13,
                  ['inception5b', 'inception4c'], 'MaxPool ceil_mode=True, Inception Concat'),
    'densenet': (lambda: DenseNetNoInplace(growth_rate=12, block_config=(2, 3, 4, 3), num_init_features=24, bn_size=2, num_classes=NUM_CLASSES), SIZE, 15,
                 ['relu', 'features.denseblock3'], 'DenseNet-BC layout reduced (growth 12, blocks 2-3-4-3); AvgPool transitions'),
    'regnet_y_400mf': (lambda: tvm.regnet_y_400mf(num_classes=NUM_CLASSES), SIZE, 16, ['trunk_output', 'trunk_output.block3'], 'grouped convs, SE'),
    'convnext': (small_convnext, SIZE, 17, ['features.5', 'features.5.0'], 'ConvNeXt layout reduced (24-48-96, depths 1-2-2): LayerNorm, GELU (Erf), Permute, layer scale'),
}

def densenet121_no_inplace():
    return DenseNetNoInplace(growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64, num_classes=CAL_CLASSES)


CAL_CLASSES = 8
CAL_SIZE = 224
# calibrated families (--patches): name: (constructor, opset, [target module paths], note)
CALIBRATED = {
    'densenet121_cal': (densenet121_no_inplace, 15, ['features.norm5', 'features.denseblock4'],
                        'DenseNet-121, BN calibrated on H&E, 224 px: 1024-channel sums that cancel'),
    'shufflenet_v2_x1_0_cal': (lambda: tvm.shufflenet_v2_x1_0(num_classes=CAL_CLASSES), 13, ['stage3', 'conv5'],
                               'ShuffleNetV2 x1.0, BN calibrated on H&E, 224 px'),
    'mobilenet_v2_cal': (lambda: tvm.mobilenet_v2(num_classes=CAL_CLASSES), 14, ['features.14', 'features.18'],
                         'MobileNetV2 x1.0, BN calibrated on H&E, 224 px (ReLU6 = Clip)'),
}


def load_patches(patch_dir):
    """Real H&E crops as a float32 [n, 3, 224, 224] ImageNet-normalised batch: every NCT-CRC-HE tile (224 px) and one
    Kather-2016 tile per class (150 px, resized), in sorted order."""
    from PIL import Image
    files = sorted(os.path.join(patch_dir, 'nct-crc-he-100k', f) for f in os.listdir(os.path.join(patch_dir, 'nct-crc-he-100k')) if f.endswith('.tif'))
    kdir = os.path.join(patch_dir, 'kather2016-texture')
    for cls in sorted(os.listdir(kdir)):
        tifs = sorted(f for f in os.listdir(os.path.join(kdir, cls)) if f.endswith('.tif'))
        if tifs:
            files.append(os.path.join(kdir, cls, tifs[0]))
    mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
    std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]
    out = []
    for f in files:
        im = Image.open(f).convert('RGB')
        if im.size != (CAL_SIZE, CAL_SIZE):
            im = im.resize((CAL_SIZE, CAL_SIZE), Image.BILINEAR)
        a = np.asarray(im, np.float32).transpose(2, 0, 1) / 255.0
        out.append((a - mean) / std)
    return torch.from_numpy(np.stack(out)), [os.path.basename(f) for f in files]


def calibrate_bn(net, x):
    """BatchNorm running statistics = the batch statistics of x (cumulative average over one train-mode pass)."""
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    net.train()
    with torch.no_grad():
        net(x)
    net.eval()


def damp_regnet_residuals(net):
    """RegNet: 16 residual blocks with randomised BN compound to activations ~300 and float32 gradients that even PyTorch
    gets only to ~4e-3 (saliency); scaling each residual branch's last BN weight by 0.3 (cf. zero-init residuals)
    keeps the net non-trivial and well conditioned (PyTorch float32 saliency error ~5e-7)."""
    for n, m in net.named_modules():
        if n.endswith('f.c.1') and isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.mul_(0.3)


POST_INIT = {'regnet_y_400mf': damp_regnet_residuals}

METHODS = ['gradcam', 'gradcam-signed', 'hirescam', 'gradcam++', 'xgradcam', 'layercam', 'eigencam', 'saliency']


def randomise(model, gen):
    """Non-trivial random weights: re-init every conv/linear, randomise BN stats and affine params."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
        elif isinstance(m, nn.LayerNorm):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
    for name, p in model.named_parameters():
        if name.endswith('layer_scale'):
            with torch.no_grad():
                p.copy_(torch.rand(p.shape, generator=gen) * 0.5 + 0.25)


def no_inplace(model):
    for m in model.modules():
        if hasattr(m, 'inplace') and isinstance(getattr(m, 'inplace'), bool):
            m.inplace = False


class Tapped(nn.Module):
    """Returns (logits, *target activations) so the export names each target tensor."""

    def __init__(self, net, paths):
        super().__init__()
        self.net = net
        self.paths = paths
        self.store = {}
        mods = dict(net.named_modules())
        for p in paths:
            if p not in mods:
                raise SystemExit(f'make_reference: module {p!r} not found')
            mods[p].register_forward_hook(self._hook(p))

    def _hook(self, p):
        def h(_m, _i, out):
            self.store[p] = out
        return h

    def forward(self, x):
        self.store = {}
        y = self.net(x)
        return (y, *[self.store[p] for p in self.paths])


def onnx_name(path):
    return 'target:' + path


def export(tapped, size, opset, path):
    x = torch.randn(1, 3, size, size)
    names = [onnx_name(p) for p in tapped.paths]
    axes = {'input': {0: 'batch'}, 'logits': {0: 'batch'}}
    for n in names:
        axes[n] = {0: 'batch'}
    torch.onnx.export(tapped, x, path, input_names=['input'], output_names=['logits'] + names, dynamic_axes=axes,
                      opset_version=opset, do_constant_folding=True)
    m = onnx.load(path)
    produced = {o for n in m.graph.node for o in n.output}
    consumed = {i for n in m.graph.node for i in n.input}
    for n in names:
        if n not in produced or n not in consumed:
            raise SystemExit(f'make_reference: {path}: target {n} is not an internal tensor (produced {n in produced}, consumed {n in consumed})')
    # keep only the logits as a graph output: the target names stay on the internal tensors
    keep = [o for o in m.graph.output if o.name == 'logits']
    del m.graph.output[:]
    m.graph.output.extend(keep)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return {n.op_type for n in m.graph.node}


def eigen_projection(a):
    """pytorch-grad-cam get_2d_projection for one item: centred (HW, C) matrix projected on the first right-singular vector."""
    c, h, w = a.shape
    r = a.reshape(c, -1).T
    r = r - r.mean(axis=0)
    _u, _s, vt = np.linalg.svd(r, full_matrices=False)
    return (r @ vt[0, :]).reshape(h, w), float(np.abs(r * vt[0, :][None, :]).sum(axis=1).max())


def cams(a, g):
    """All CAM maps for activations a and gradients g, both (N, C, H, W) float64 numpy."""
    out = {}
    scale = {}

    def put(name, terms, relu=True):
        # terms: (N, C, H, W) summands of the map; scale = max over the map of sum_k |term_k| (cancellation-aware)
        m = terms.sum(axis=1)
        out[name] = np.maximum(m, 0) if relu else m
        scale[name] = float(np.abs(terms).sum(axis=1).max())

    alpha = g.mean(axis=(2, 3))[:, :, None, None]
    put('gradcam-signed', alpha * a, relu=False)
    put('gradcam', alpha * a)
    put('hirescam', g * a)
    g2 = g ** 2
    g3 = g2 * g
    sa = a.sum(axis=(2, 3))[:, :, None, None]
    aij = g2 / (2 * g2 + sa * g3 + 1e-6)
    aij = np.where(g != 0, aij, 0)
    wpp = (np.maximum(g, 0) * aij).sum(axis=(2, 3))[:, :, None, None]
    put('gradcam++', wpp * a)
    wx = (g * a / (sa + 1e-7)).sum(axis=(2, 3))[:, :, None, None]
    put('xgradcam', wx * a)
    put('layercam', np.maximum(g, 0) * a)
    return out, scale


def make_seeds(logits, rank=0):
    K = logits.shape[1]
    seeds = {}
    s = np.zeros((K,), np.float32)
    s[int(np.argsort(-logits[0])[rank])] = 1
    seeds['onehot'] = s  # broadcast [K] seed: item 0's predicted (rank 0) or second-ranked (rank 1) class, for every item
    s = np.zeros((BATCH, K), np.float32)
    for i in range(BATCH):  # per-item contrast seed [N, K]: +1 at A, -1 at B
        s[i, (i + 1) % K] = 1
        s[i, (i + 3) % K] = -1
    seeds['contrast'] = s
    return seeds


DITHER = 2 ** -22
DITHER_DRAWS = 4


def dither_hook(gen):
    """forward pre-hook: input + DITHER * N(0, 1) * per-channel RMS of the input (whole-tensor RMS for 2-D inputs)"""
    def hook(_m, inputs):
        x = inputs[0]
        if x.dim() == 4:
            scale = x.detach().pow(2).mean(dim=(0, 2, 3), keepdim=True).sqrt()
        else:
            scale = x.detach().pow(2).mean().sqrt()
        noise = torch.randn(x.shape, generator=gen, dtype=x.dtype).to(memory_format=torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) and x.dim() == 4 else torch.contiguous_format)
        return (x + DITHER * scale * noise,) + tuple(inputs[1:])
    return hook


def rms_rel(x, ref):
    """relative RMS error ||x - ref||_2 / ||ref||_2"""
    n = float(np.sqrt((ref ** 2).sum()))
    return float(np.sqrt(((x - ref) ** 2).sum())) / n if n > 0 else float(np.sqrt(((x - ref) ** 2).sum()))


def save(path, arr):
    np.save(path, np.ascontiguousarray(arr, dtype=np.float32))


def build(name, out_dir, seed_no, patches=None):
    t0 = time.time()
    gen = torch.Generator().manual_seed(1000 + seed_no)
    torch.manual_seed(1000 + seed_no)
    if name in CALIBRATED:
        ctor, opset, paths, note = CALIBRATED[name]
        size = CAL_SIZE
        crops, crop_names = patches
        net = ctor()
        no_inplace(net)
        calibrate_bn(net, crops)
        # two real crops: the first two NCT tiles in sorted order (adipose, background would be dull: take TUM and STR)
        pick = [i for i, f in enumerate(crop_names) if f.startswith(('TUM-', 'STR-'))][:BATCH]
        x = crops[pick].clone()
        note = f"{note}; input {', '.join(crop_names[i] for i in pick)}"
        seed_rank = 1
    else:
        ctor, size, opset, paths, note = FAMILIES[name]
        net = ctor().eval()
        randomise(net, gen)
        if name in POST_INIT:
            POST_INIT[name](net)
        no_inplace(net)
        x = None
        seed_rank = 0
    tapped = Tapped(net, paths).eval()
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    ops = export(tapped, size, opset, os.path.join(d, 'model.onnx'))

    if x is None:
        x = torch.randn(BATCH, 3, size, size, generator=gen).float()
    save(os.path.join(d, 'input.npy'), x.numpy())
    # PyTorch's own float32 passes (same weights, same input), computed before .double() (which converts the parameters
    # in place): their A, dS/dA and dS/dinput measure the float32 noise of this case. Float32 noise includes kink flips — a ReLU/Clip input or a MaxPool tie within rounding of
    # its switch takes the other branch and changes the gradient locally by O(1) — and which near-kink units flip
    # depends on the implementation's rounding. Draws: the default (NCHW) kernels, channels-last ones (other blocking
    # and summation order), and DITHER_DRAWS dithered ones (every Conv/Linear/BatchNorm input gets Gaussian noise of
    # DITHER = 2^-22 x its per-channel RMS: 4 units of float32 rounding, about the error of a float32 convolution), so
    # the near-kink units of the case flip in some draw and the bound covers another implementation's flips.
    # torch32_* keep the plain draws, dither_* the dithered ones.
    seeds = None
    draws = []
    for kind in ['nchw', 'channels_last'] + [f'dither{k}' for k in range(DITHER_DRAWS)]:
        fmt = torch.channels_last if kind == 'channels_last' else torch.contiguous_format
        tapped = tapped.to(memory_format=fmt)
        handles = []
        if kind.startswith('dither'):
            dgen = torch.Generator().manual_seed(7 + int(kind[6:]))
            for mod in tapped.modules():
                if isinstance(mod, (nn.Conv2d, nn.Linear, nn.BatchNorm2d)):
                    handles.append(mod.register_forward_pre_hook(dither_hook(dgen)))
        x32 = x.clone().contiguous(memory_format=fmt).requires_grad_(True)
        logits32, *a32 = tapped(x32)
        if seeds is None:
            seeds = make_seeds(logits32.detach().numpy(), seed_rank)
        g32, s32 = {}, {}
        for sname, sv in seeds.items():
            st32 = torch.from_numpy(sv)
            gs = torch.autograd.grad((logits32 * (st32 if st32.dim() == 2 else st32[None, :])).sum(), a32 + [x32], retain_graph=True)
            g32[sname] = [g.detach().double().contiguous().numpy() for g in gs[:-1]]
            s32[sname] = gs[-1].abs().amax(dim=1).double().contiguous().numpy()
        draws.append(([t.detach().double().contiguous().numpy() for t in a32], g32, s32, kind.startswith('dither')))
        for h in handles:
            h.remove()
    tapped = tapped.to(memory_format=torch.contiguous_format).double()
    xd = x.double().requires_grad_(True)
    logits, *acts = tapped(xd)
    save(os.path.join(d, 'logits.npy'), logits.detach().numpy())
    K = logits.shape[1]
    cases = []
    layers = []
    scales = {}
    torch32 = {}
    torch32_rms = {}
    dither_err = {}
    dither_rms = {}

    def record(key, ref, f32s):
        """PyTorch float32's max abs error and relative RMS error on `key`, the largest over the plain draws
        (torch32_*) and over the dithered ones (dither_*); f32s: one value per draw, in the order of `draws`"""
        plain = [v for v, dr in zip(f32s, draws) if not dr[3]]
        dith = [v for v, dr in zip(f32s, draws) if dr[3]]
        torch32[key] = max(float(np.abs(v - ref).max()) for v in plain)
        torch32_rms[key] = max(rms_rel(v, ref) for v in plain)
        if dith:
            dither_err[key] = max(float(np.abs(v - ref).max()) for v in dith)
            dither_rms[key] = max(rms_rel(v, ref) for v in dith)

    for i, (p, a) in enumerate(zip(paths, acts)):
        layers.append({'module': p, 'tensor': onnx_name(p), 'dims': list(a.shape[1:]), 'stride': size // a.shape[2]})
        an = a.detach().numpy()
        save(os.path.join(d, f'{p}-A.npy'), an)
        scales[f'{p}-A'] = float(np.abs(an).max())
        record(f'{p}-A', an, [dr[0][i] for dr in draws])
        ev = [eigen_projection(an[j]) for j in range(BATCH)]
        save(os.path.join(d, f'{p}-eigencam.npy'), np.stack([e[0] for e in ev]))
        scales[f'{p}-eigencam'] = max(e[1] for e in ev)
    for sname, sv in seeds.items():
        save(os.path.join(d, f'seed-{sname}.npy'), sv)
        st = torch.from_numpy(sv).double()
        score = (logits * (st if st.dim() == 2 else st[None, :])).sum()
        grads = torch.autograd.grad(score, acts + [xd], retain_graph=True)
        sal = grads[-1].abs().amax(dim=1).numpy()
        save(os.path.join(d, f'input-{sname}-saliency.npy'), sal)
        scales[f'input-{sname}-saliency'] = float(sal.max())
        record(f'input-{sname}-saliency', sal, [dr[2][sname] for dr in draws])
        for i, (p, a, g) in enumerate(zip(paths, acts, grads[:-1])):
            an, gn = a.detach().numpy(), g.numpy()
            save(os.path.join(d, f'{p}-{sname}-G.npy'), gn)
            scales[f'{p}-{sname}-G'] = float(np.abs(gn).max())
            record(f'{p}-{sname}-G', gn, [dr[1][sname][i] for dr in draws])
            maps, sc = cams(an, gn)
            # PyTorch float32's own maps: its float32 A and dS/dA, the formulas evaluated in float64 (as ours are)
            m32s = [cams(dr[0][i], dr[1][sname][i])[0] for dr in draws]
            for mname, m in maps.items():
                save(os.path.join(d, f'{p}-{sname}-{mname}.npy'), m)
                scales[f'{p}-{sname}-{mname}'] = sc[mname]
                record(f'{p}-{sname}-{mname}', m, [m32[mname] for m32 in m32s])
        cases.append(sname)
    return {
        'name': name, 'note': note, 'opset': opset, 'input_size': size, 'batch': BATCH, 'num_classes': K,
        'params': sum(p.numel() for p in net.parameters()), 'ops': sorted(ops), 'layers': layers, 'seeds': cases,
        'term_scale': scales, 'torch32_error': torch32, 'torch32_rms': torch32_rms, 'dither_error': dither_err, 'dither_rms': dither_rms,
        'seconds': round(time.time() - t0, 2),
    }


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    out_dir = sys.argv[1]
    only = None
    if '--only' in sys.argv:
        only = sys.argv[sys.argv.index('--only') + 1].split(',')
    patch_dir = sys.argv[sys.argv.index('--patches') + 1] if '--patches' in sys.argv else None
    os.makedirs(out_dir, exist_ok=True)
    models = []
    names = list(FAMILIES) + (list(CALIBRATED) if patch_dir else [])
    patches = None
    for k, name in enumerate(names):
        if only and name not in only:
            continue
        if name in CALIBRATED and patches is None:
            patches = load_patches(patch_dir)
        info = build(name, out_dir, k, patches)
        print(f"{name}: {info['params']} params, opset {info['opset']}, {info['seconds']} s", flush=True)
        models.append(info)
    manifest = {
        'torch': torch.__version__, 'methods': METHODS, 'models': models,
        'files': '<model>/<module>-<seed>-<method>.npy; <model>/<module>-eigencam.npy (seed-free, signed); <model>/input-<seed>-saliency.npy',
    }
    with open(os.path.join(out_dir, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)


if __name__ == '__main__':
    main()
