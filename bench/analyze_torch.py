#!/usr/bin/python3
"""PyTorch side of bench/analysis.bench.ts: the whole-slide Grad-CAM script a user would write instead of
`glassbox analyze`, and the model package both run.

  analyze_torch.py export PKGDIR
      torchvision ResNet-18 (3 classes, seeded random weights, BN statistics randomised so activations are not
      degenerate) -> PKGDIR/weights.pt and a WSInfer-style package: PKGDIR/model.onnx (opset 13, dynamic batch;
      layer4's output is the graph tensor 'target:layer4') + PKGDIR/config.json (224 px at 0.5 um/px, ToTensor +
      ImageNet Normalize, target_layer 'target:layer4').

  analyze_torch.py run SLIDE PKGDIR OUT.npy [--class K] [--batch B] [--threads T] [--min-tissue F]
      Whole-slide Grad-CAM of class K at layer4 with OpenSlide + PyTorch CPU, the same work as `glassbox analyze`:
        - resolution: f = model um/px / slide um/px (openslide.mpp-x; the model's when unknown); patch = 224·f
          level-0 px, read with read_region from the coarsest level whose downsample <= f, resized to 224² with
          PIL bilinear when the read size differs; outside the slide = white;
        - tissue: mean HSV saturation per mask pixel (mask downsample max(1, longest side/4096, patch/16)) from
          the coarsest level at least as fine as the mask, Otsu (256 bins) clamped to [0.04, 0.15], area-weighted
          tissue fraction per patch >= F (default 0.1): the rule of main/engine/analysis/tissue.ts;
        - grid: non-overlapping patches from (0, 0), ceil(extent / patch) per axis (the last one may overhang);
        - model: torchvision ToTensor + Normalize, batches of B, the pytorch-grad-cam recipe (forward hook storing
          the activation + tensor hook storing its gradient, zero_grad, sum of the class logits,
          backward(retain_graph=True) with parameters requiring grad; numpy: channel weights = spatial mean of the
          gradient, ReLU(sum_k w_k A_k), raw values, no min-max, no resize);
        - stitched: float32 [rows·7, cols·7], NaN where no patch was analysed; saved as OUT.npy.
      Prints one JSON line: patches, grid_patches, seconds per stage, total seconds inside the script.
"""
import json
import math
import os
import sys
import time

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

CLASSES = ['tumor', 'stroma', 'other']
P = 224
SPACING = 0.5
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
LAYER = 'target:layer4'


def build():
    # the same seeded ResNet-18 builder as the explain bench (this script's directory is on sys.path)
    from explain_torch import build as build_resnet18
    return build_resnet18(num_classes=len(CLASSES), seed=11)


class Tapped(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.acts = {}
        net.layer4.register_forward_hook(lambda _m, _i, o: self.acts.__setitem__('layer4', o))

    def forward(self, x):
        y = self.net(x)
        return y, self.acts['layer4']


def export(d):
    import onnx
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(11)
    net = build()
    torch.save(net.state_dict(), os.path.join(d, 'weights.pt'))
    path = os.path.join(d, 'model.onnx')
    torch.onnx.export(Tapped(net), torch.zeros(1, 3, P, P), path, input_names=['input'], output_names=['logits', LAYER],
                      dynamic_axes={n: {0: 'batch'} for n in ['input', 'logits', LAYER]}, opset_version=13,
                      do_constant_folding=True)
    m = onnx.load(path)
    keep = [o for o in m.graph.output if o.name == 'logits']
    del m.graph.output[:]
    m.graph.output.extend(keep)
    onnx.save(m, path)
    with open(os.path.join(d, 'config.json'), 'w') as f:
        json.dump({
            'spec_version': '1.0', 'architecture': 'resnet18', 'num_classes': len(CLASSES), 'class_names': CLASSES,
            'patch_size_pixels': P, 'spacing_um_px': SPACING,
            'transform': [{'name': 'ToTensor'}, {'name': 'Normalize', 'arguments': {'mean': MEAN, 'std': STD}}],
            'target_layer': LAYER, 'description': 'bench/analyze_torch.py: seeded random ResNet-18 (benchmark only)',
        }, f, indent=2)


def jround(v):
    """JavaScript Math.round (half up), as the engine rounds patch edges."""
    return math.floor(v + 0.5)


def otsu(values):
    v = values[np.isfinite(values)]
    if v.size == 0:
        return 0.5
    hist = np.bincount(np.clip(np.floor(v * 256).astype(np.int64), 0, 255), minlength=256).astype(np.float64)
    n = hist.sum()
    t = np.arange(256, dtype=np.float64)
    w_b = np.cumsum(hist)
    sum_b = np.cumsum(t * hist)
    total = sum_b[-1]
    best, best_t = -1.0, 0
    for i in range(256):
        if w_b[i] == 0:
            continue
        w_f = n - w_b[i]
        if w_f == 0:
            break
        m_b, m_f = sum_b[i] / w_b[i], (total - sum_b[i]) / w_f
        between = w_b[i] * w_f * (m_b - m_f) ** 2
        if between > best:
            best, best_t = between, i
    return (best_t + 1) / 256


def tissue_mask(slide, ds_mask):
    W, H = slide.dimensions
    mw, mh = max(1, math.ceil(W / ds_mask)), max(1, math.ceil(H / ds_mask))
    level = 0
    for i, d in enumerate(slide.level_downsamples):
        if d <= ds_mask + 1e-9:
            level = i
    lw, lh = slide.level_dimensions[level]
    lds = slide.level_downsamples[level]
    sums = np.zeros(mw * mh)
    counts = np.zeros(mw * mh)
    mx_of = np.minimum(mw - 1, np.floor((np.arange(lw) + 0.5) * lds / ds_mask).astype(np.int64))
    chunk = 2048
    for ly in range(0, lh, chunk):
        ch = min(chunk, lh - ly)
        rgb = np.asarray(slide.read_region((0, jround(ly * lds)), level, (lw, ch)).convert('RGB'), dtype=np.float32)
        mx, mn = rgb.max(axis=2), rgb.min(axis=2)
        sat = np.where(mx > 0, (mx - mn) / np.maximum(mx, 1), 0)
        my_of = np.minimum(mh - 1, np.floor((np.arange(ly, ly + ch) + 0.5) * lds / ds_mask).astype(np.int64))
        idx = (my_of[:, None] * mw + mx_of[None, :]).ravel()
        sums += np.bincount(idx, weights=sat.ravel(), minlength=mw * mh)
        counts += np.bincount(idx, minlength=mw * mh)
    saturation = np.where(counts > 0, sums / np.maximum(counts, 1), 0).astype(np.float32)
    thr = min(0.15, max(0.04, otsu(saturation)))
    mask = (saturation > thr).reshape(mh, mw).astype(np.float64)
    integral = np.zeros((mh + 1, mw + 1))
    integral[1:, 1:] = mask.cumsum(0).cumsum(1)
    return integral, mw, mh, thr


def tissue_fraction(integral, mw, mh, ds, x, y, w, h):
    x0, y0 = max(0.0, x / ds), max(0.0, y / ds)
    x1, y1 = min(mw, (x + w) / ds), min(mh, (y + h) / ds)
    if x1 <= x0 or y1 <= y0:
        return 0.0

    def at(px, py):  # the integral image is bilinear inside each mask pixel
        ix, iy = int(math.floor(px)), int(math.floor(py))
        fx, fy = px - ix, py - iy
        def I(a, b):
            return integral[min(mh, b), min(mw, a)]
        return (I(ix, iy) * (1 - fx) * (1 - fy) + I(ix + 1, iy) * fx * (1 - fy)
                + I(ix, iy + 1) * (1 - fx) * fy + I(ix + 1, iy + 1) * fx * fy)
    inside = at(x1, y1) - at(x0, y1) - at(x1, y0) + at(x0, y0)
    return min(1.0, max(0.0, inside * ds * ds / (w * h)))


def run(argv):
    import openslide
    from PIL import Image
    import torchvision.transforms as T

    slide_path, pkg, out_path = argv[0], argv[1], argv[2]
    opts = dict(zip(argv[3::2], argv[4::2]))
    k = int(opts.get('--class', '0'))
    batch = int(opts.get('--batch', '16'))
    min_tissue = float(opts.get('--min-tissue', '0.1'))
    if '--threads' in opts:
        torch.set_num_threads(int(opts['--threads']))
    times = {}

    t = time.perf_counter()
    net = build()
    net.load_state_dict(torch.load(os.path.join(pkg, 'weights.pt')))
    net.eval()
    for p in net.parameters():
        p.requires_grad_(True)
    store = {'activations': [], 'gradients': []}

    def save(_m, _i, output):  # pytorch_grad_cam/activations_and_gradients.py
        store['activations'].append(output.cpu().detach())
        if output.requires_grad:
            def _store_grad(grad):
                store['gradients'] = [grad.cpu().detach()] + store['gradients']
            output.register_hook(_store_grad)
    net.layer4.register_forward_hook(save)
    tf = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    times['model'] = time.perf_counter() - t

    t = time.perf_counter()
    slide = openslide.OpenSlide(slide_path)
    W, H = slide.dimensions
    mpp = slide.properties.get(openslide.PROPERTY_NAME_MPP_X)
    mpp = float(mpp) if mpp else SPACING
    f = SPACING / mpp
    patch0 = P * f
    ds_mask = max(1.0, max(W, H) / 4096, patch0 / 16)
    integral, mw, mh, thr = tissue_mask(slide, ds_mask)

    def count(extent):
        return 1 if extent <= patch0 else math.ceil((extent - patch0) / patch0 - 1e-9) + 1
    cols, rows = count(W), count(H)
    todo = []
    for r in range(rows):
        for c in range(cols):
            x, y = jround(c * patch0), jround(r * patch0)
            w, h = max(1, jround(c * patch0 + patch0) - x), max(1, jround(r * patch0 + patch0) - y)
            fr = tissue_fraction(integral, mw, mh, ds_mask, x, y, w, h)
            if fr > 0 and fr >= min_tissue:
                todo.append((r, c, x, y, w, h))
    level = 0
    for i, d in enumerate(slide.level_downsamples):
        if d <= f * (1 + 1e-6) and d > slide.level_downsamples[level]:
            level = i
    lds = slide.level_downsamples[level]
    times['tissue'] = time.perf_counter() - t

    cw = ch = None
    heat = None
    t_read = t_model = 0.0
    white = Image.new('RGBA', (1, 1), (255, 255, 255, 255))
    for b0 in range(0, len(todo), batch):
        t = time.perf_counter()
        xs = []
        for (r, c, x, y, w, h) in todo[b0:b0 + batch]:
            im = slide.read_region((x, y), level, (max(1, jround(w / lds)), max(1, jround(h / lds))))
            if im.getextrema()[3][0] < 255:  # partly outside the slide: transparent -> white
                im = Image.alpha_composite(white.resize(im.size), im)
            im = im.convert('RGB')
            if im.size != (P, P):
                im = im.resize((P, P), Image.BILINEAR)
            xs.append(tf(im))
        x = torch.stack(xs)
        t_read += time.perf_counter() - t

        t = time.perf_counter()
        store['activations'], store['gradients'] = [], []
        outputs = net(x)
        net.zero_grad()
        loss = sum([o[k] for o in outputs])  # ClassifierOutputTarget(k) per item
        loss.backward(retain_graph=True)
        a = store['activations'][0].numpy()
        g = store['gradients'][0].numpy()
        weights = np.mean(g, axis=(2, 3))
        cams = np.maximum((weights[:, :, None, None] * a).sum(axis=1), 0)
        if heat is None:
            ch, cw = cams.shape[1:]
            heat = np.full((rows * ch, cols * cw), np.nan, dtype=np.float32)
        for (r, c, *_), cam in zip(todo[b0:b0 + batch], cams):
            heat[r * ch:(r + 1) * ch, c * cw:(c + 1) * cw] = cam
        t_model += time.perf_counter() - t
    np.save(out_path, heat)
    times['read+preprocess'] = t_read
    times['gradcam'] = t_model
    print(json.dumps({
        'torch': torch.__version__, 'threads': torch.get_num_threads(), 'patches': len(todo), 'grid_patches': rows * cols,
        'threshold': thr, 'read_level': level, 'seconds': times, 'script_seconds': time.perf_counter() - T_START,
    }))


if __name__ == '__main__':
    if sys.argv[1] == 'export':
        export(sys.argv[2])
    else:
        run(sys.argv[2:])
