#!/usr/bin/python3
"""Builds models/he-cellularity/{model.onnx,config.json}: a small H&E "cellularity" CNN whose labels come from
colour deconvolution, so its right answer is known on any H&E slide. NOT a diagnostic model (see MODEL_CARD.md).

usage: /usr/bin/python3 models/he-cellularity/train.py [SHARED_DIR]
       (default SHARED_DIR: ../shared beside the repository; reads slides/CMU-1-Small-Region.svs and
        patches/kather2016-texture/; writes model.onnx and config.json beside this file)

Labels (per training crop, from its colour-augmented stain concentrations; the same rule is in MODEL_CARD.md and in
test/models/hed.ts):
  OD = -ln((I + 1) / 256) per RGB channel (I in 0..255); [H, E, D] = OD @ inv(M), M = Ruifrok-Johnston HED stain
  vectors (rows H = (0.65, 0.70, 0.29), E = (0.07, 0.99, 0.11), D = (0.27, 0.57, 0.78), each normalised to unit length).
  tissue pixel: OD_R + OD_G + OD_B > 0.3;  hematoxylin-dense pixel: H > 1.0
  f_t = tissue fraction, f_h = hematoxylin-dense fraction (both over all pixels of the crop)
  background: f_t < 0.2 | cellular: f_t >= 0.3 and f_h >= 0.2 | stroma: f_t >= 0.3 and f_h < 0.1 | else ignored.

Data (licences allow shipping derived weights): CMU-1-Small-Region.svs (OpenSlide test data, CC0, 0.499 um/px), rows
y < TRAIN_MAX_Y only (rows >= HELDOUT_MIN_Y are held out), and the 24 Kather 2016 texture tiles (CC BY 4.0, 0.495 um/px).
The TCGA slide in ../shared/slides is never read here (no licence stated): it is held-out tissue for the test.

Training: 300 steps of Adam on batches of 24 random crops (48..128 px, one size per step), flips, 90-degree rotations
and colour augmentation in HED space (per-stain scale 0.6..1.4 and shift +-0.08 OD; the labels are the rule applied
to these concentrations; 70 % of crops are then rendered with perturbed stain vectors, see augment_colour);
class-weighted cross-entropy; torch.manual_seed(0), numpy seed 0, 2 threads. About 3.5 min of CPU (12 min wall on a
loaded, shared 2-core machine); a rerun writes the same model.onnx byte for byte (same machine and torch build).
"""
import hashlib
import json
import os
import sys
import time

import numpy as np
import onnx
import openslide
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = ['background', 'stroma', 'cellular']
PATCH = 224                 # model input: 224 x 224 px at 0.5 um/px = 112 um
SPACING = 0.5
TRAIN_MAX_Y = 2250          # CMU rows used for training: crops lie entirely in y < TRAIN_MAX_Y
HELDOUT_MIN_Y = 2350        # CMU rows >= this are held out (the test reads patches there)
STEPS = 300
BATCH = 24
SIZES = [48, 64, 96, 128]
MEAN = [0.75, 0.6, 0.75]    # fixed Normalize (rounded statistics of H&E tissue; the same in config.json)
STD = [0.2, 0.25, 0.2]

# Ruifrok & Johnston (2001) HED stain matrix, rows normalised (as in their paper and scikit-image's rgb_from_hed)
STAINS = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]], dtype=np.float64)
STAINS /= np.linalg.norm(STAINS, axis=1, keepdims=True)
UNMIX = np.linalg.inv(STAINS)
TISSUE_OD = 0.3
H_DENSE = 1.0


def od_of(rgb):
    """rgb float tensor [..., 3] in 0..255 -> optical density (natural log)"""
    return -torch.log((rgb + 1.0) / 256.0)


def rule(od, hed):
    """the labelling rule on optical densities [N, H, W, 3] and stain concentrations -> labels [N] (-1 = ignored)"""
    f_t = (od.sum(-1) > TISSUE_OD).float().mean(dim=(1, 2))
    f_h = (hed[..., 0] > H_DENSE).float().mean(dim=(1, 2))
    lab = torch.full_like(f_t, -1, dtype=torch.long)
    lab[f_t < 0.2] = 0
    tissue = f_t >= 0.3
    lab[tissue & (f_h < 0.1)] = 1
    lab[tissue & (f_h >= 0.2)] = 2
    return lab


def labels_of(rgb):
    """rgb [N, H, W, 3] float 0..255 -> the rule's labels [N]"""
    od = od_of(rgb)
    return rule(od, od @ torch.tensor(UNMIX, dtype=torch.float32))


def augment_colour(rgb, g):
    """HED-space stain augmentation -> (augmented rgb, labels).
    1. per-sample scale (0.6..1.4) and shift (+-0.08 OD, stained pixels only) of each stain's concentration: the
       labels are the rule applied to these concentrations (as the standard stain vectors would render them);
    2. for 70 % of the samples the image is rendered with perturbed stain vectors (hematoxylin's hue shifted, e.g.
       towards the red-magenta of some frozen sections; eosin's slightly), so the amount of hematoxylin, not its
       exact hue, decides the label."""
    n = rgb.shape[0]
    od = od_of(rgb)
    hed = od @ torch.tensor(UNMIX, dtype=torch.float32)
    scale = 0.6 + 0.8 * torch.rand(n, 1, 1, 3, generator=g)
    shift = (torch.rand(n, 1, 1, 3, generator=g) - 0.5) * 0.16
    tissue = (od.sum(-1, keepdim=True) > TISSUE_OD).float()  # shift only stained pixels: keep glass white
    hed = hed * scale + shift * tissue
    stains = torch.tensor(STAINS, dtype=torch.float32)
    labels = rule(hed @ stains, hed)
    lo = torch.tensor([[-0.40, -0.10, -0.10], [-0.05, -0.05, -0.10], [0, 0, 0]])
    hi = torch.tensor([[0.10, 0.20, 0.25], [0.10, 0.05, 0.20], [0, 0, 0]])
    m = stains + lo + (hi - lo) * torch.rand(n, 3, 3, generator=g)
    m = m / m.norm(dim=-1, keepdim=True)
    keep = torch.rand(n, generator=g) >= 0.7
    m[keep] = stains
    od2 = torch.einsum('nhwk,nkc->nhwc', hed, m)
    return (256.0 * torch.exp(-od2) - 1.0).clamp(0, 255).round(), labels


class CellularityNet(nn.Module):
    """conv-BN-ReLU x5 with three 2x max-pools (stride 8 at the last conv), global average pool, linear head"""

    def __init__(self, n=len(CLASSES)):
        super().__init__()
        c = [3, 16, 32, 48, 64, 64]
        layers = []
        for i in range(5):
            layers += [nn.Conv2d(c[i], c[i + 1], 3, padding=1, bias=False), nn.BatchNorm2d(c[i + 1]), nn.ReLU()]
            if i < 3:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c[-1], n)

    def forward(self, x):
        return self.head(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


def normalize(rgb):
    """[N, H, W, 3] 0..255 -> [N, 3, H, W] as config.json's ToTensor + Normalize"""
    x = rgb.permute(0, 3, 1, 2) / 255.0
    return (x - torch.tensor(MEAN)[None, :, None, None]) / torch.tensor(STD)[None, :, None, None]


def main():
    repo = os.path.dirname(os.path.dirname(HERE))
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(repo), 'shared')
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(0)
    t0 = time.time()

    slide = openslide.OpenSlide(os.path.join(shared, 'slides', 'CMU-1-Small-Region.svs'))
    w, h = slide.dimensions
    cmu = torch.from_numpy(np.asarray(slide.read_region((0, 0), 0, (w, TRAIN_MAX_Y)).convert('RGB')).astype(np.float32))
    kdir = os.path.join(shared, 'patches', 'kather2016-texture')
    kather = torch.stack([torch.from_numpy(np.asarray(Image.open(os.path.join(kdir, d, f)).convert('RGB')).astype(np.float32))
                          for d in sorted(os.listdir(kdir)) for f in sorted(os.listdir(os.path.join(kdir, d)))])
    print('data: CMU %dx%d (train rows) + %d Kather tiles %s' % (w, TRAIN_MAX_Y, len(kather), tuple(kather.shape[1:3])), flush=True)

    def batch(size):
        n_k = BATCH // 4 if size <= kather.shape[1] else 0
        crops = []
        for _ in range(BATCH - n_k):
            y = int(np.random.randint(0, TRAIN_MAX_Y - size + 1))
            x = int(np.random.randint(0, w - size + 1))
            crops.append(cmu[y:y + size, x:x + size])
        for _ in range(n_k):
            i = int(np.random.randint(len(kather)))
            y, x = (int(v) for v in np.random.randint(0, kather.shape[1] - size + 1, size=2))
            crops.append(kather[i, y:y + size, x:x + size])
        xb = torch.stack(crops)
        xb = torch.rot90(xb, int(np.random.randint(4)), dims=(1, 2))
        if np.random.rand() < 0.5:
            xb = xb.flip(2)
        return augment_colour(xb, g)

    model = CellularityNet()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=STEPS, pct_start=0.1)
    weights = torch.tensor([1.0, 1.0, 1.5])
    seen = torch.zeros(3)
    run_loss, run_acc = 0.0, 0.0
    for step in range(STEPS):
        model.train()
        rgb, lab = batch(SIZES[int(np.random.randint(len(SIZES)))])
        keep = lab >= 0
        if keep.sum() < 2:
            continue
        logits = model(normalize(rgb[keep]))
        loss = F.cross_entropy(logits, lab[keep], weight=weights)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        seen += torch.bincount(lab[keep], minlength=3)
        run_loss = 0.95 * run_loss + 0.05 * loss.item()
        run_acc = 0.95 * run_acc + 0.05 * (logits.argmax(1) == lab[keep]).float().mean().item()
        if step % 100 == 0 or step == STEPS - 1:
            print('step %4d loss %.3f acc %.3f (%.0f s)' % (step, run_loss, run_acc, time.time() - t0), flush=True)
    print('labelled crops seen per class:', dict(zip(CLASSES, seen.int().tolist())))
    model.eval()

    # held-out look: 224-px CMU patches in rows >= HELDOUT_MIN_Y against the rule (the test measures more)
    held = torch.from_numpy(np.asarray(slide.read_region((0, HELDOUT_MIN_Y), 0, (w, h - HELDOUT_MIN_Y)).convert('RGB')).astype(np.float32))
    crops = [held[y:y + PATCH, x:x + PATCH] for y in range(0, held.shape[0] - PATCH + 1, PATCH // 2) for x in range(0, w - PATCH + 1, PATCH // 2)]
    hb = torch.stack(crops)
    lab = labels_of(hb)
    with torch.no_grad():
        pred = model(normalize(hb)).argmax(1)
    k = lab >= 0
    print('CMU held-out 224-px patches: %d labelled by the rule, %d agree' % (int(k.sum()), int((pred[k] == lab[k]).sum())))

    path = os.path.join(HERE, 'model.onnx')
    torch.onnx.export(model, torch.zeros(1, 3, PATCH, PATCH), path, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13, do_constant_folding=True)
    m = onnx.load(path)
    relus = [n for n in m.graph.node if n.op_type == 'Relu']
    target = relus[-1].output[0]
    m.producer_name = 'glassbox models/he-cellularity/train.py'
    onnx.checker.check_model(m)
    onnx.save(m, path)
    config = {
        'spec_version': '1.0',
        'architecture': 'cellularity-cnn-5conv',
        'num_classes': len(CLASSES),
        'class_names': CLASSES,
        'patch_size_pixels': PATCH,
        'spacing_um_px': SPACING,
        'transform': [
            {'name': 'ToTensor'},
            {'name': 'Normalize', 'arguments': {'mean': MEAN, 'std': STD}},
        ],
        'model_path': 'model.onnx',
        'target_layer': target,
        'stride': 8,
        'description': 'NOT DIAGNOSTIC: background / stroma / cellular (hematoxylin-dense) classes derived from colour '
                       'deconvolution; a teaching and sanity-check model (see MODEL_CARD.md)',
    }
    with open(os.path.join(HERE, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
        f.write('\n')
    sha = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    print('wrote %s (%d bytes, sha256 %s), target %s, %.0f s in all' % (path, os.path.getsize(path), sha, target, time.time() - t0))


if __name__ == '__main__':
    main()
