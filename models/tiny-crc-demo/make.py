#!/usr/bin/python3
"""Builds models/tiny-crc-demo/{model.onnx,config.json} — a DEMO model, not a diagnostic one.

usage: /usr/bin/python3 models/tiny-crc-demo/make.py [PATCHES_DIR]
       (default PATCHES_DIR: ../shared/patches beside the repository)

A 4-block CNN (~117k parameters) fitted in about 10 s on 2 CPU cores to the 24 Kather-2016 texture patches
(8 classes x 3 tiles, 150x150 px at 0.495 um/px) with flips / 90-degree rotations / random 120-150 px crops,
full-batch Adam, fixed seeds. It has seen 24 images: it memorises them and generalises poorly. It exists
so the app and CLI have an embedded default package whose maps depend on trained weights.
"""
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = ['TUMOR', 'STROMA', 'COMPLEX', 'LYMPHO', 'DEBRIS', 'MUCOSA', 'ADIPOSE', 'EMPTY']
SIZE = 112          # model input (Resize 150 -> 112)
EPOCHS = 300
NCT_MAP = {'TUM': 'TUMOR', 'STR': 'STROMA', 'LYM': 'LYMPHO', 'DEB': 'DEBRIS', 'NORM': 'MUCOSA', 'ADI': 'ADIPOSE', 'BACK': 'EMPTY'}


class TinyCNN(nn.Module):
    def __init__(self, n=len(CLASSES)):
        super().__init__()
        chans = [3, 16, 32, 48, 64]
        blocks = []
        for i in range(4):
            blocks += [nn.Conv2d(chans[i], chans[i + 1], 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(chans[i + 1]), nn.ReLU(),
                       nn.Conv2d(chans[i + 1], chans[i + 1], 3, padding=1, bias=False), nn.BatchNorm2d(chans[i + 1]), nn.ReLU()]
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(chans[-1], n)

    def forward(self, x):
        return self.head(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


def load(path, size):
    img = Image.open(path).convert('RGB')
    if img.size != (150, 150):  # centre 150-px crop (NCT tiles are 224 px at 0.5 um/px)
        w, h = img.size
        img = img.crop(((w - 150) // 2, (h - 150) // 2, (w - 150) // 2 + 150, (h - 150) // 2 + 150))
    img = img.resize((size, size), Image.BILINEAR)  # = torchvision Resize(size) on a square PIL patch
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)


def main():
    repo = os.path.dirname(os.path.dirname(HERE))
    patches = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(repo), 'shared', 'patches')
    kdir = os.path.join(patches, 'kather2016-texture')
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(2)
    xs, ys, files = [], [], []
    for ci, c in enumerate(CLASSES):
        folder = os.path.join(kdir, '%02d_%s' % (ci + 1, c))
        for f in sorted(os.listdir(folder)):
            xs.append(load(os.path.join(folder, f), 150))
            ys.append(ci)
            files.append(os.path.join('%02d_%s' % (ci + 1, c), f))
    x150 = torch.stack(xs)
    y = torch.tensor(ys)
    # per-channel statistics of the 24 patches, rounded as written to config.json (training uses the same values)
    mean = torch.round(x150.mean(dim=(0, 2, 3)) * 1e4) / 1e4
    std = torch.round(x150.std(dim=(0, 2, 3)) * 1e4) / 1e4
    model = TinyCNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    for epoch in range(EPOCHS):
        model.train()
        # augmentation: random 120..150-px crop of the 150-px patch resized to SIZE, flips, 90-degree rotations
        cs = int(np.random.randint(120, 151))
        i0, j0 = np.random.randint(0, 151 - cs, size=2)
        xb = x150[:, :, i0:i0 + cs, j0:j0 + cs]
        xb = F.interpolate(xb, size=(SIZE, SIZE), mode='bilinear', align_corners=False, antialias=True)
        if np.random.rand() < 0.5:
            xb = xb.flip(3)
        xb = torch.rot90(xb, int(np.random.randint(4)), dims=(2, 3))
        xb = (xb - mean[None, :, None, None]) / std[None, :, None, None]
        loss = F.cross_entropy(model(xb), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if epoch % 50 == 0 or epoch == EPOCHS - 1:
            print('epoch %d loss %.4f' % (epoch, loss.item()), flush=True)
    model.eval()

    def predict(paths):
        xb = torch.stack([load(p, SIZE) for p in paths])
        with torch.no_grad():
            return model((xb - mean[None, :, None, None]) / std[None, :, None, None]).argmax(1).tolist()

    train_acc = float(np.mean(np.array(predict([os.path.join(kdir, f) for f in files])) == np.array(ys)))
    nct = os.path.join(patches, 'nct-crc-he-100k')
    held = [(f, CLASSES.index(NCT_MAP[f.split('-')[0]])) for f in sorted(os.listdir(nct)) if f.split('-')[0] in NCT_MAP] if os.path.isdir(nct) else []
    held_pred = predict([os.path.join(nct, f) for f, _ in held]) if held else []
    held_ok = sum(int(p == t) for p, (_, t) in zip(held_pred, held))
    print('train accuracy %.3f; NCT-CRC-HE held-out %d/%d' % (train_acc, held_ok, len(held)))

    path = os.path.join(HERE, 'model.onnx')
    torch.onnx.export(model, torch.zeros(1, 3, SIZE, SIZE), path, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13, do_constant_folding=True)
    m = onnx.load(path)
    relus = [n for n in m.graph.node if n.op_type == 'Relu']
    target = relus[-1].output[0]
    m.producer_name = 'glassbox models/tiny-crc-demo/make.py'
    onnx.save(m, path)
    r = lambda v: [round(float(a), 4) for a in v]
    config = {
        'spec_version': '1.0',
        'architecture': 'tiny-cnn-4block',
        'num_classes': len(CLASSES),
        'class_names': CLASSES,
        'patch_size_pixels': 150,
        'spacing_um_px': 0.495,
        'transform': [
            {'name': 'Resize', 'arguments': {'size': SIZE}},
            {'name': 'ToTensor'},
            {'name': 'Normalize', 'arguments': {'mean': r(mean), 'std': r(std)}},
        ],
        'model_path': 'model.onnx',
        'target_layer': target,
        'stride': 16,
        'description': 'DEMO ONLY: tiny CNN fitted to 24 Kather-2016 texture patches; not a diagnostic model (see MODEL_CARD.md)',
    }
    with open(os.path.join(HERE, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
        f.write('\n')
    sha = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    print('wrote %s (%d bytes, sha256 %s), target %s' % (path, os.path.getsize(path), sha, target))
    print('held-out predictions:', [(f, CLASSES[p]) for (f, _), p in zip(held, held_pred)])


if __name__ == '__main__':
    main()
