#!/usr/bin/python3
"""Export a PyTorch classifier to a Glassbox model package: config.json (WSInfer zoo spec 1.0 + Glassbox's
model_path, target_layer, stride) and model.onnx (dynamic batch, static spatial size). See models/tools/README.md.

Sources (exactly one):
  --wsinfer DIR|config.json      a WSInfer zoo model: torchscript_model.pt + config.json (its config is kept as is,
                                 our fields are added beside it)
  --torchvision NAME             a torchvision classification architecture (resnet18, densenet121, ...), built with
                                 num_classes = --num-classes; weights from --weights (a state_dict .pt/.pth) or
                                 random (seeded) when omitted
  --callable MODULE:FN           any python callable returning an nn.Module (MODULE importable from the current
                                 directory or PYTHONPATH); --kwargs JSON passed to it; --weights optional

For --torchvision / --callable the WSInfer fields come from the options: --class-names a,b,c (or --num-classes),
--patch-size, --spacing, [--resize N], --mean/--std (default ImageNet's).

The export is checked before anything is written: ONNX Runtime's logits (Python onnxruntime if installed, else
onnxruntime-node through models/tools/ort_run.mjs) must match PyTorch's on a random batch of 2 within
1e-4 * max(1, max |logit|). --reference DIR also writes that input and PyTorch's logits as input.npy / logits.npy.

Exit status 0 on success; otherwise one line on stderr naming the problem.
"""
import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
POOL_OPS = {'GlobalAveragePool', 'GlobalMaxPool', 'ReduceMean', 'ReduceMax', 'Flatten', 'Reshape'}


class ExportError(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--wsinfer', metavar='DIR|config.json')
    src.add_argument('--torchvision', metavar='NAME')
    src.add_argument('--callable', metavar='MODULE:FN')
    p.add_argument('--out', required=True, help='package folder to write (created; must be empty or absent unless --force)')
    p.add_argument('--force', action='store_true', help='replace config.json / model.onnx in an existing --out')
    p.add_argument('--weights', help='state_dict file for --torchvision / --callable')
    p.add_argument('--kwargs', default='{}', help='JSON keyword arguments for --callable')
    p.add_argument('--num-classes', type=int)
    p.add_argument('--class-names', help='comma-separated class names (default class_0..class_{n-1})')
    p.add_argument('--patch-size', type=int, help='patch_size_pixels (size read from the slide)')
    p.add_argument('--spacing', type=float, help='spacing_um_px (µm/px the patch is read at)')
    p.add_argument('--resize', type=int, help='Resize size before ToTensor (default: none, the model reads the patch as is)')
    p.add_argument('--mean', default=','.join(map(str, IMAGENET_MEAN)))
    p.add_argument('--std', default=','.join(map(str, IMAGENET_STD)))
    p.add_argument('--architecture', help='config "architecture" (default: the torchvision name or the callable)')
    p.add_argument('--description', help='config "description"')
    p.add_argument('--target-layer', help='Grad-CAM target: an ONNX tensor name or a PyTorch module path '
                   '(e.g. layer3); default: the last 4-D activation before global pooling')
    p.add_argument('--opset', type=int, default=13)
    p.add_argument('--seed', type=int, default=0, help='seed for random weights and the check input')
    p.add_argument('--reference', metavar='DIR', help='also write the check input and PyTorch logits as input.npy / logits.npy')
    p.add_argument('--threads', type=int, default=2)
    return p.parse_args(argv)


def floats(s, what):
    try:
        v = [float(x) for x in s.split(',')]
    except ValueError:
        raise ExportError('%s must be 3 comma-separated numbers, got %r' % (what, s))
    if len(v) != 3:
        raise ExportError('%s must be 3 comma-separated numbers, got %r' % (what, s))
    return v


def load_state_dict(torch, model, path):
    sd = torch.load(path, map_location='cpu')
    if isinstance(sd, dict) and 'state_dict' in sd and isinstance(sd['state_dict'], dict):
        sd = sd['state_dict']
    if not isinstance(sd, dict):
        raise ExportError('%s: not a state_dict (got %s)' % (path, type(sd).__name__))
    sd = {k[7:] if k.startswith('module.') else k: v for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise ExportError('%s: state_dict does not fit the model: missing %s, unexpected %s' % (path, list(missing)[:5], list(unexpected)[:5]))


def wsinfer_source(torch, path):
    d = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    cfg_path = path if not os.path.isdir(path) else os.path.join(path, 'config.json')
    if not os.path.isfile(cfg_path):
        raise ExportError('%s: no config.json' % path)
    with open(cfg_path) as f:
        try:
            cfg = json.load(f)
        except ValueError as e:
            raise ExportError('%s: not valid JSON (%s)' % (cfg_path, e))
    pt = os.path.join(d, 'torchscript_model.pt')
    if not os.path.isfile(pt):
        raise ExportError('%s: no torchscript_model.pt beside config.json' % d)
    model = torch.jit.load(pt, map_location='cpu')
    return model, cfg


def built_config(args, n_classes, architecture):
    names = args.class_names.split(',') if args.class_names else ['class_%d' % i for i in range(n_classes)]
    if args.patch_size is None or args.spacing is None:
        raise ExportError('--patch-size and --spacing are required for --torchvision / --callable')
    transform = []
    if args.resize:
        transform.append({'name': 'Resize', 'arguments': {'size': args.resize}})
    transform += [{'name': 'ToTensor'}, {'name': 'Normalize', 'arguments': {'mean': floats(args.mean, '--mean'), 'std': floats(args.std, '--std')}}]
    return {
        'spec_version': '1.0',
        'architecture': args.architecture or architecture,
        'num_classes': len(names),
        'class_names': names,
        'patch_size_pixels': args.patch_size,
        'spacing_um_px': args.spacing,
        'transform': transform,
    }


def input_size(cfg):
    """model input [h, w]: the patch after the config's Resize steps (torchvision semantics on a square patch)"""
    h = w = int(cfg['patch_size_pixels'])
    for t in cfg.get('transform', []):
        if t.get('name') != 'Resize':
            continue
        size = t.get('arguments', {}).get('size')
        if isinstance(size, list) and len(size) == 2:
            h, w = int(size[0]), int(size[1])
        else:
            s = int(size[0] if isinstance(size, list) else size)
            if h <= w:
                h, w = s, int(s * w / h)
            else:
                h, w = int(s * h / w), s
    return h, w


def check_config(cfg):
    for k in ('spec_version', 'architecture', 'num_classes', 'class_names', 'patch_size_pixels', 'spacing_um_px', 'transform'):
        if k not in cfg:
            raise ExportError('config is missing "%s" (WSInfer spec 1.0)' % k)
    if len(cfg['class_names']) != cfg['num_classes']:
        raise ExportError('class_names has %d names but num_classes is %d' % (len(cfg['class_names']), cfg['num_classes']))


def onnx_shapes(onnx, model):
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        t = vi.type.tensor_type
        if t.HasField('shape'):
            shapes[vi.name] = [d.dim_value if d.HasField('dim_value') else -1 for d in t.shape.dim]
    return shapes


def default_target(model, shapes):
    """the 4-D input of the first pooling/flattening node that ends the spatial part of the network"""
    for n in model.graph.node:
        if n.op_type in POOL_OPS and n.input:
            s = shapes.get(n.input[0])
            if s and len(s) == 4 and s[2] > 1 and s[3] > 1:
                return n.input[0]
    # fall back to the last 4-D activation with a spatial extent
    last = None
    for n in model.graph.node:
        for o in n.output:
            s = shapes.get(o)
            if s and len(s) == 4 and s[2] > 1 and s[3] > 1:
                last = o
    return last


def resolve_target(model, shapes, spec):
    outputs = [o for n in model.graph.node for o in n.output]
    if spec in outputs:
        s = shapes.get(spec)
        if not s or len(s) != 4:
            raise ExportError('target layer %r is not a 4-D activation (shape %s)' % (spec, s))
        return spec
    # a PyTorch module path: the last 4-D output of a node exported under that module's scope
    scope = '/' + spec.replace('.', '/') + '/'
    hits = [o for n in model.graph.node if n.name.startswith(scope) or ('/' + spec + '/') in n.name for o in n.output
            if shapes.get(o) and len(shapes[o]) == 4]
    if not hits:
        raise ExportError('target layer %r is neither an ONNX tensor nor a module with a 4-D output' % spec)
    return hits[-1]


def run_ort(onnx_path, x):
    """ONNX Runtime logits for x (numpy float32 NCHW)"""
    import numpy as np
    try:
        import onnxruntime
        sess = onnxruntime.InferenceSession(onnx_path, providers=['CPUExecutionProvider'])
        return sess.run(None, {sess.get_inputs()[0].name: x})[0], 'onnxruntime (python)'
    except ImportError:
        pass
    node = shutil.which('node')
    if not node:
        raise ExportError('cannot check the export: neither python onnxruntime nor node (for onnxruntime-node) is available')
    with tempfile.TemporaryDirectory() as td:
        xi, yo = os.path.join(td, 'x.f32'), os.path.join(td, 'y.f32')
        x.astype('<f4').tofile(xi)
        r = subprocess.run([node, os.path.join(HERE, 'ort_run.mjs'), onnx_path, xi, ','.join(map(str, x.shape)), yo],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise ExportError('onnxruntime-node could not run the export: %s' % (r.stderr.strip().splitlines() or ['?'])[-1])
        dims = json.loads(r.stdout.strip().splitlines()[-1])
        return np.fromfile(yo, dtype='<f4').reshape(dims), 'onnxruntime-node'


def validate(args):
    """cheap checks of the options, before torch is imported"""
    names = args.class_names.split(',') if args.class_names else None
    if names and args.num_classes and len(names) != args.num_classes:
        raise ExportError('--class-names has %d names but --num-classes is %d' % (len(names), args.num_classes))
    if names and (any(not n for n in names) or len(set(names)) != len(names)):
        raise ExportError('--class-names must be distinct and non-empty: %r' % args.class_names)
    if args.wsinfer:
        d = args.wsinfer if os.path.isdir(args.wsinfer) else os.path.dirname(os.path.abspath(args.wsinfer))
        cfg = args.wsinfer if not os.path.isdir(args.wsinfer) else os.path.join(args.wsinfer, 'config.json')
        if not os.path.isfile(cfg):
            raise ExportError('%s: no config.json' % args.wsinfer)
        if not os.path.isfile(os.path.join(d, 'torchscript_model.pt')):
            raise ExportError('%s: no torchscript_model.pt beside config.json' % d)
    if not args.wsinfer and (args.patch_size is None or args.spacing is None):
        raise ExportError('--patch-size and --spacing are required for --torchvision / --callable')
    if args.torchvision and not (names or args.num_classes):
        raise ExportError('--num-classes or --class-names is required for --torchvision')
    floats(args.mean, '--mean')
    floats(args.std, '--std')
    if any(v == 0 for v in floats(args.std, '--std')):
        raise ExportError('--std must not contain 0')


def export(args):
    import numpy as np
    import torch
    import onnx
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    if args.wsinfer:
        model, cfg = wsinfer_source(torch, args.wsinfer)
        cfg = dict(cfg)
    else:
        if args.torchvision:
            import torchvision
            fn = getattr(torchvision.models, args.torchvision, None)
            if fn is None or not callable(fn):
                raise ExportError('torchvision.models has no architecture %r' % args.torchvision)
            model = fn(num_classes=args.num_classes or len(args.class_names.split(',')))
            arch = args.torchvision
        else:
            if ':' not in args.callable:
                raise ExportError('--callable must be MODULE:FN, got %r' % args.callable)
            mod, fn = args.callable.split(':', 1)
            sys.path.insert(0, os.getcwd())
            try:
                model = getattr(importlib.import_module(mod), fn)(**json.loads(args.kwargs))
            except (ImportError, AttributeError) as e:
                raise ExportError('cannot load %s: %s' % (args.callable, e))
            arch = args.callable
        if args.weights:
            load_state_dict(torch, model, args.weights)
        model.eval()
        names = args.class_names.split(',') if args.class_names else None
        n = len(names) if names else args.num_classes
        if n is None:  # a callable without --num-classes: as many classes as the model has logits
            h, w = input_size(built_config(args, 1, arch))
            with torch.no_grad():
                n = int(model(torch.zeros(1, 3, h, w)).shape[-1])
        cfg = built_config(args, n, arch)
    check_config(cfg)
    model.eval()
    h, w = input_size(cfg)

    g = torch.Generator().manual_seed(args.seed)
    x = torch.randn(2, 3, h, w, generator=g)
    with torch.no_grad():
        ref = model(x)
    if isinstance(ref, (tuple, list)):
        ref = ref[0]
    if ref.dim() != 2 or ref.shape[1] != cfg['num_classes']:
        raise ExportError('the model outputs %s for a [2, 3, %d, %d] input; expected [2, %d] logits' % (list(ref.shape), h, w, cfg['num_classes']))

    os.makedirs(args.out, exist_ok=True)
    for f in ('config.json', 'model.onnx'):
        if os.path.exists(os.path.join(args.out, f)) and not args.force:
            raise ExportError('%s already exists (use --force to replace it)' % os.path.join(args.out, f))
    with tempfile.TemporaryDirectory() as td:
        tmp = os.path.join(td, 'model.onnx')
        torch.onnx.export(model, torch.zeros(1, 3, h, w), tmp, input_names=['input'], output_names=['logits'],
                          dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=args.opset,
                          do_constant_folding=True)
        m = onnx.load(tmp)
        onnx.checker.check_model(m)
        shapes = onnx_shapes(onnx, m)
        target = resolve_target(m, shapes, args.target_layer) if args.target_layer else default_target(m, shapes)
        if target is None:
            raise ExportError('the model has no 4-D activation with a spatial extent: no Grad-CAM target layer')
        th, tw = shapes[target][2], shapes[target][3]
        if h % th or w % tw or h // th != w // tw:
            raise ExportError('target %r is %dx%d for a %dx%d input: no integer stride' % (target, th, tw, h, w))
        stride = h // th
        m.producer_name = 'glassbox models/tools/export_package.py'
        onnx.save(m, tmp)

        got, runtime = run_ort(tmp, x.numpy())
        want = ref.detach().numpy()
        tol = 1e-4 * max(1.0, float(np.abs(want).max()))
        err = float(np.abs(got - want).max()) if got.shape == want.shape else float('inf')
        if not err <= tol:
            raise ExportError('ONNX logits differ from PyTorch: max |diff| %.3g > %.3g (shapes %s vs %s)' % (err, tol, list(got.shape), list(want.shape)))

        cfg['model_path'] = 'model.onnx'
        cfg['target_layer'] = target
        cfg['stride'] = stride
        if args.description:
            cfg['description'] = args.description
        shutil.copyfile(tmp, os.path.join(args.out, 'model.onnx'))
    with open(os.path.join(args.out, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=2)
        f.write('\n')
    if args.reference:
        os.makedirs(args.reference, exist_ok=True)
        np.save(os.path.join(args.reference, 'input.npy'), x.numpy().astype(np.float32))
        np.save(os.path.join(args.reference, 'logits.npy'), want.astype(np.float32))
    print('wrote %s: input [N, 3, %d, %d], %d classes, target %s (%dx%d, stride %d); %s logits match PyTorch (max |diff| %.2g)'
          % (args.out, h, w, cfg['num_classes'], target, th, tw, stride, runtime, err))


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    try:
        validate(args)
        export(args)
    except ExportError as e:
        print('export_package: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
