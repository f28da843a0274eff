#!/usr/bin/python3
"""The PyTorch peer of libsubset's dataset condensation (DM and DC/DSA): a plain-PyTorch
re-implementation of the inner iteration of the reference code of Zhao & Bilen
(github.com/VICO-UoE/DatasetCondensation: main_DM.py, main.py, networks.py ConvNet, utils.py
match_loss / DiffAugment / ParamDiffAug), doing the same work as the reference, no more and no less.

    /usr/bin/python3 tests/benchmarks/peers_condense.py STORE --method dm|dc [--ipc 10]
        [--iterations N] [--threads T] [--dsa|--no-dsa] [--seed 0] [--json]

STORE is a libsubset feature store holding Fashion-MNIST: /features float32 [N, 784] in [0, 1] and
/labels int64. The images are normalised with mean 0.2861, std 0.3530 and reshaped to
[N, 1, 28, 28], as the reference's transforms.ToTensor + Normalize do.

What one measured unit is:
  dm  one iteration of main_DM.py's training loop (ConvNet, init real, batch_real 256, DSA on by
      default): a fresh ConvNet with frozen parameters; per class, 256 random real images of the
      class and the class's ipc synthetic images, both augmented with the same seed (siamese),
      loss += sum((mean(embed(real).detach(), 0) - mean(embed(syn), 0))**2); then one
      SGD(lr 1.0, momentum 0.5) step on the synthetic images.
  dc  one outer step of main.py (ConvNet, batch_real 256, lr_img 0.1 momentum 0.5, lr_net 0.01,
      batch_train 256, dis_metric 'ours', no augmentation by default; --dsa = the DSA method with
      strategy color_crop_cutout_flip_scale_rotate): per class, gw_real = grad(CE(net(real_c)))
      detached, gw_syn = grad(CE(net(syn_c)), create_graph=True), loss += match_loss(gw_syn,
      gw_real); one SGD step on the synthetic images; then, unless it is the last outer step of the
      iteration, inner_loop epochs of training the net on the synthetic set (plain SGD lr_net, as
      the reference's optimizer_net = torch.optim.SGD(net.parameters(), lr=args.lr_net), batches
      of batch_train from a shuffling DataLoader; augmented non-siamese when --dsa).
      The outer steps follow the reference's order (a fresh net every outer_loop steps, built
      outside the timed parts; no inner loop after the last one). Reported: seconds_matching
      (matching + image step, mean over the timed steps), seconds_inner_loop (mean over the timed
      steps' inner loops), seconds_per_outer_step = their sum (a full outer step; at ipc 10 the
      first 8 timed steps all are), and the derived
      seconds_per_iteration_estimate = outer_loop * matching + (outer_loop - 1) * inner_loop.

One untimed warm-up unit runs first, then --iterations timed ones. The reference draws its seeds
from the clock (get_network, the DSA seeds); here they come from a random.Random(--seed), in the
same range [0, 100000), and torch and numpy are seeded from --seed.

Debian's python3-torch (1.13, CPU). torch.set_num_threads(T) sets the OpenMP pool (oneDNN
convolutions); OPENBLAS_NUM_THREADS is set to T unless already set (BLAS matrix products).
"""
import argparse
import copy
import json
import math
import os
import random
import sys
import time

MEAN, STD = 0.2861, 0.3530  # the reference's FashionMNIST normalisation
DSA_STRATEGY = "color_crop_cutout_flip_scale_rotate"


def get_loops(ipc):
    """main.py's get_loops: (outer_loop, inner_loop)."""
    table = {1: (1, 1), 10: (10, 50), 20: (20, 25), 30: (30, 20), 40: (40, 15), 50: (50, 10)}
    if ipc not in table:
        sys.exit(f"loop hyper-parameters are not defined for {ipc} ipc")
    return table[ipc]


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("store")
    ap.add_argument("--method", choices=["dm", "dc"], required=True)
    ap.add_argument("--ipc", type=int, default=10)
    ap.add_argument("--iterations", type=int, default=3,
                    help="timed iterations (dm) or outer steps (dc), after one untimed warm-up")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dsa", dest="dsa", action="store_true", default=None,
                    help="siamese DiffAugment (default: on for dm, off for dc)")
    ap.add_argument("--no-dsa", dest="dsa", action="store_false")
    ap.add_argument("--init", choices=["real", "noise"], default=None,
                    help="synthetic init (reference defaults: real for main_DM.py, noise for main.py)")
    ap.add_argument("--batch-real", type=int, default=256)
    ap.add_argument("--batch-train", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.dsa is None:
        a.dsa = a.method == "dm"
    if a.init is None:
        a.init = "real" if a.method == "dm" else "noise"
    a.lr_img = 1.0 if a.method == "dm" else 0.1
    a.lr_net = 0.01
    a.outer_loop, a.inner_loop = get_loops(a.ipc)
    return a


a = parse()
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402


# ----------------------------------------------------------------------------------------------
# networks.py ConvNet: net_width 128, depth 3, relu, 'instancenorm' (GroupNorm(128, 128)),
# avgpooling; 28x28 inputs get padding 3 on the first conv, so the feature map is 128 x 4 x 4.

class ConvNet(nn.Module):
    def __init__(self, channel, num_classes, width=128, depth=3, im_size=28):
        super().__init__()
        layers, c, hw = [], channel, 32 if im_size == 28 else im_size
        for d in range(depth):
            layers += [nn.Conv2d(c, width, kernel_size=3, padding=3 if channel == 1 and d == 0 else 1),
                       nn.GroupNorm(width, width, affine=True),
                       nn.ReLU(inplace=True),
                       nn.AvgPool2d(kernel_size=2, stride=2)]
            c, hw = width, hw // 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width * hw * hw, num_classes)

    def embed(self, x):
        # The reference flattens with .view(). On torch 1.13 (CPU) rand_crop's output, strides
        # (784, 1, 28, 1), is taken as channels_last, the convolutions then keep that layout, and
        # .view() of the pooled features raises; .reshape() copies them (256 x 2048 floats) instead.
        return self.features(x).reshape(x.size(0), -1)

    def forward(self, x):
        return self.classifier(self.embed(x))


def get_network(seed, channel, num_classes):
    # utils.get_network reseeds torch's global generator (from the clock) before building.
    torch.random.manual_seed(seed)
    return ConvNet(channel, num_classes)


# ----------------------------------------------------------------------------------------------
# utils.py DiffAugment, aug_mode 'S' (one of the strategy's groups, drawn per call), ParamDiffAug
# defaults. With a seed (siamese) torch's global generator is reseeded before every draw, the seed
# going up by one each time, and every image of the batch gets the first image's parameters;
# without one (seed -1) nothing is reseeded and each image gets its own parameters.

class ParamDiffAug:
    prob_flip = 0.5
    ratio_scale = 1.2
    ratio_rotate = 15.0
    ratio_crop_pad = 0.125
    ratio_cutout = 0.5
    brightness = 1.0
    saturation = 2.0
    contrast = 0.5


class _Seeder:
    def __init__(self, seed):
        self.seed = seed
        self.siamese = seed != -1

    def __call__(self):
        if self.seed != -1:
            torch.random.manual_seed(self.seed)
            self.seed += 1


def _share_first(t):
    # The reference's t[:] = t[0]; cloned first, since with a batch of one (ipc 1) torch 1.13
    # refuses the fully overlapping copy (the reference itself raises there).
    t[:] = t[0].clone()


def _affine(x, theta, s):
    if s.siamese:
        _share_first(theta)
    # The reference calls affine_grid / grid_sample without align_corners: on torch >= 1.3 that
    # is align_corners=False (bilinear, zero padding).
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False)


def rand_scale(x, p, s):
    r, n = p.ratio_scale, x.shape[0]
    s()
    sx = torch.rand(n) * (r - 1.0 / r) + 1.0 / r
    s()
    sy = torch.rand(n) * (r - 1.0 / r) + 1.0 / r
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1] = sx, sy
    return _affine(x, theta, s)


def rand_rotate(x, p, s):
    n = x.shape[0]
    s()
    t = (torch.rand(n) - 0.5) * 2 * p.ratio_rotate / 180 * float(math.pi)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(t), torch.sin(-t)
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(t), torch.cos(t)
    return _affine(x, theta, s)


def rand_flip(x, p, s):
    s()
    u = torch.rand(x.size(0), 1, 1, 1, device=x.device)
    if s.siamese:
        _share_first(u)
    return torch.where(u < p.prob_flip, x.flip(3), x)


def rand_brightness(x, p, s):
    s()
    u = torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device)
    if s.siamese:
        _share_first(u)
    return x + (u - 0.5) * p.brightness


def rand_saturation(x, p, s):
    m = x.mean(dim=1, keepdim=True)
    s()
    u = torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device)
    if s.siamese:
        _share_first(u)
    return (x - m) * (u * p.saturation) + m


def rand_contrast(x, p, s):
    m = x.mean(dim=[1, 2, 3], keepdim=True)
    s()
    u = torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device)
    if s.siamese:
        _share_first(u)
    return (x - m) * (u + p.contrast) + m


def rand_crop(x, p, s):
    # Pad by one pixel of zeros, shift by up to int(size * 0.125 + 0.5) pixels, clamping into the
    # padded image (a differentiable gather).
    n, h, w = x.size(0), x.size(2), x.size(3)
    shx, shy = int(h * p.ratio_crop_pad + 0.5), int(w * p.ratio_crop_pad + 0.5)
    s()
    tx = torch.randint(-shx, shx + 1, size=[n, 1, 1], device=x.device)
    s()
    ty = torch.randint(-shy, shy + 1, size=[n, 1, 1], device=x.device)
    if s.siamese:
        _share_first(tx), _share_first(ty)
    gb, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                torch.arange(w, device=x.device), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return padded.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)


def rand_cutout(x, p, s):
    n, h, w = x.size(0), x.size(2), x.size(3)
    ch, cw = int(h * p.ratio_cutout + 0.5), int(w * p.ratio_cutout + 0.5)
    s()
    ox = torch.randint(0, h + (1 - ch % 2), size=[n, 1, 1], device=x.device)
    s()
    oy = torch.randint(0, w + (1 - cw % 2), size=[n, 1, 1], device=x.device)
    if s.siamese:
        _share_first(ox), _share_first(oy)
    gb, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(ch, device=x.device),
                                torch.arange(cw, device=x.device), indexing="ij")
    gx = torch.clamp(gx + ox - ch // 2, min=0, max=h - 1)
    gy = torch.clamp(gy + oy - cw // 2, min=0, max=w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


AUGMENT_FNS = {
    "color": [rand_brightness, rand_saturation, rand_contrast],
    "crop": [rand_crop],
    "cutout": [rand_cutout],
    "flip": [rand_flip],
    "scale": [rand_scale],
    "rotate": [rand_rotate],
}


def diff_augment(x, strategy, seed=-1, param=ParamDiffAug):
    if strategy in ("", "none", "None"):
        return x
    s = _Seeder(seed)
    groups = strategy.split("_")
    s()
    group = groups[torch.randint(0, len(groups), size=(1,)).item()]
    for f in AUGMENT_FNS[group]:
        x = f(x, param, s)
    return x.contiguous()


# ----------------------------------------------------------------------------------------------
# utils.py match_loss with dis_metric 'ours' (distance_wb per parameter tensor).

def distance_wb(gwr, gws):
    shape = gwr.shape
    if len(shape) == 4:  # conv: out x (in*h*w)
        gwr = gwr.reshape(shape[0], shape[1] * shape[2] * shape[3])
        gws = gws.reshape(shape[0], shape[1] * shape[2] * shape[3])
    elif len(shape) == 3:  # layernorm (not in this ConvNet)
        gwr = gwr.reshape(shape[0], shape[1] * shape[2])
        gws = gws.reshape(shape[0], shape[1] * shape[2])
    elif len(shape) == 1:  # biases, GroupNorm weight/bias: contribute 0 (no graph)
        return torch.tensor(0, dtype=torch.float)
    # len 2 (the Linear weight, classes x 2048): rows as they are
    return torch.sum(1 - torch.sum(gwr * gws, dim=-1)
                     / (torch.norm(gwr, dim=-1) * torch.norm(gws, dim=-1) + 0.000001))


def match_loss(gw_syn, gw_real):
    dis = torch.tensor(0.0)
    for gr, gs in zip(gw_real, gw_syn):
        dis += distance_wb(gr, gs)
    return dis


# ----------------------------------------------------------------------------------------------

class Condenser:
    def __init__(self, a, images_all, labels_all, num_classes):
        self.a = a
        self.images_all = images_all
        self.num_classes = num_classes
        self.channel = images_all.shape[1]
        self.im = images_all.shape[2:]
        labels_np = labels_all.numpy()
        self.indices_class = [np.flatnonzero(labels_np == c) for c in range(num_classes)]
        self.seeds = random.Random(a.seed)  # stands in for int(time.time() * 1000) % 100000
        self.strategy = DSA_STRATEGY if a.dsa else "None"

        ipc = a.ipc
        self.image_syn = torch.randn(size=(num_classes * ipc, self.channel, *self.im),
                                     dtype=torch.float, requires_grad=True)
        self.label_syn = torch.arange(num_classes).repeat_interleave(ipc).long()
        if a.init == "real":
            for c in range(num_classes):
                self.image_syn.data[c * ipc:(c + 1) * ipc] = self.get_images(c, ipc).detach().data
        self.optimizer_img = torch.optim.SGD([self.image_syn], lr=a.lr_img, momentum=0.5)
        self.optimizer_img.zero_grad()
        self.criterion = nn.CrossEntropyLoss()
        self.ol = 0  # dc: the next outer step's index within its iteration
        self.net = None

    def get_images(self, c, n):
        idx = np.random.permutation(self.indices_class[c])[:n]
        return self.images_all[idx]

    def new_seed(self):
        return self.seeds.randrange(100000)

    def syn_of(self, c):
        ipc = self.a.ipc
        return self.image_syn[c * ipc:(c + 1) * ipc].reshape((ipc, self.channel, *self.im))

    # main_DM.py, one iteration of the ConvNet ('BN' not in model) branch
    def dm_iteration(self):
        net = get_network(self.new_seed(), self.channel, self.num_classes)
        net.train()
        for param in net.parameters():
            param.requires_grad = False
        loss = torch.tensor(0.0)
        for c in range(self.num_classes):
            img_real = self.get_images(c, self.a.batch_real)
            img_syn = self.syn_of(c)
            if self.a.dsa:
                seed = self.new_seed()
                img_real = diff_augment(img_real, self.strategy, seed=seed)
                img_syn = diff_augment(img_syn, self.strategy, seed=seed)
            output_real = net.embed(img_real).detach()
            output_syn = net.embed(img_syn)
            loss += torch.sum((torch.mean(output_real, dim=0) - torch.mean(output_syn, dim=0)) ** 2)
        self.optimizer_img.zero_grad()
        loss.backward()
        self.optimizer_img.step()
        return loss.item() / self.num_classes

    # main.py: a fresh net and its optimizer at the start of each iteration
    def dc_new_net(self):
        self.net = get_network(self.new_seed(), self.channel, self.num_classes)
        self.net.train()
        self.net_parameters = list(self.net.parameters())
        self.optimizer_net = torch.optim.SGD(self.net.parameters(), lr=self.a.lr_net)
        self.optimizer_net.zero_grad()

    def dc_match(self):
        """The 'update synthetic data' part of one outer step."""
        net, params, ipc = self.net, self.net_parameters, self.a.ipc
        loss = torch.tensor(0.0)
        for c in range(self.num_classes):
            img_real = self.get_images(c, self.a.batch_real)
            lab_real = torch.ones((img_real.shape[0],), dtype=torch.long) * c
            img_syn = self.syn_of(c)
            lab_syn = torch.ones((ipc,), dtype=torch.long) * c
            if self.a.dsa:
                seed = self.new_seed()
                img_real = diff_augment(img_real, self.strategy, seed=seed)
                img_syn = diff_augment(img_syn, self.strategy, seed=seed)
            loss_real = self.criterion(net(img_real), lab_real)
            gw_real = torch.autograd.grad(loss_real, params)
            gw_real = [g.detach().clone() for g in gw_real]
            loss_syn = self.criterion(net(img_syn), lab_syn)
            gw_syn = torch.autograd.grad(loss_syn, params, create_graph=True)
            loss += match_loss(gw_syn, gw_real)
        self.optimizer_img.zero_grad()
        loss.backward()
        self.optimizer_img.step()
        return loss.item()

    def dc_inner(self):
        """The 'update network' part: inner_loop epochs of utils.epoch('train', ...)."""
        image_syn_train = copy.deepcopy(self.image_syn.detach())
        label_syn_train = copy.deepcopy(self.label_syn.detach())
        dst = torch.utils.data.TensorDataset(image_syn_train.detach().float(), label_syn_train.detach())
        loader = torch.utils.data.DataLoader(dst, batch_size=self.a.batch_train, shuffle=True,
                                             num_workers=0)
        net, opt = self.net, self.optimizer_net
        for _ in range(self.a.inner_loop):
            net.train()
            loss_avg, acc_avg, num_exp = 0.0, 0, 0
            for img, lab in loader:
                img = img.float()
                if self.a.dsa:  # aug = True if args.dsa: DiffAugment without a seed
                    img = diff_augment(img, self.strategy)
                lab = lab.long()
                n_b = lab.shape[0]
                output = net(img)
                loss = self.criterion(output, lab)
                acc = np.sum(np.equal(np.argmax(output.cpu().data.numpy(), axis=-1), lab.cpu().data.numpy()))
                loss_avg += loss.item() * n_b
                acc_avg += acc
                num_exp += n_b
                opt.zero_grad()
                loss.backward()
                opt.step()

    def dc_outer_step(self):
        """One outer step in the reference's order; returns (matching s, inner s or None)."""
        if self.ol == 0:
            self.dc_new_net()  # once per iteration, outside the timed parts
        t0 = time.perf_counter()
        self.dc_match()
        t1 = time.perf_counter()
        last = self.ol == self.a.outer_loop - 1
        if not last:
            self.dc_inner()
        t2 = time.perf_counter()
        self.ol = 0 if last else self.ol + 1
        return t1 - t0, (None if last else t2 - t1)


def load(store):
    with h5py.File(store, "r") as f:
        x = np.asarray(f["features"][...], dtype=np.float32)
        y = np.asarray(f["labels"][...]).astype(np.int64)
    if x.shape[1] != 784:
        sys.exit(f"{store}: /features has {x.shape[1]} columns, expected 784 (Fashion-MNIST)")
    x = ((x - np.float32(MEAN)) / np.float32(STD)).reshape(-1, 1, 28, 28)
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)


def main():
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    images_all, labels_all = load(a.store)
    num_classes = int(labels_all.max()) + 1
    print(f"# pytorch {torch.__version__}: {images_all.shape[0]} images {tuple(images_all.shape[1:])}, "
          f"{num_classes} classes, torch threads {torch.get_num_threads()}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, method {a.method}, "
          f"dsa {int(a.dsa)}, init {a.init}, outer_loop {a.outer_loop}, inner_loop {a.inner_loop}",
          file=sys.stderr, flush=True)
    cond = Condenser(a, images_all, labels_all, num_classes)
    head = f"peer {a.method} ipc={a.ipc} threads={a.threads}"
    common = {"peer": a.method, "ipc": a.ipc, "threads": a.threads, "iterations": a.iterations,
              "dsa": bool(a.dsa), "init": a.init, "seed": a.seed, "torch": torch.__version__}

    if a.method == "dm":
        cond.dm_iteration()  # warm-up
        secs = []
        for _ in range(a.iterations):
            t = time.perf_counter()
            cond.dm_iteration()
            secs.append(time.perf_counter() - t)
        mean = sum(secs) / len(secs)
        out = dict(common, seconds_per_iteration=mean, samples=secs)
        lines = [f"{head} seconds_per_iteration={mean:.3f} iterations={a.iterations} dsa={int(a.dsa)} "
                 f"samples={','.join(f'{s:.3f}' for s in secs)}"]
    else:
        cond.dc_outer_step()  # warm-up: the iteration's first outer step
        match, inner = [], []
        for _ in range(a.iterations):
            m, i = cond.dc_outer_step()
            match.append(m)
            if i is not None:
                inner.append(i)
        mean_m = sum(match) / len(match)
        mean_i = sum(inner) / len(inner) if inner else 0.0
        per_step = mean_m + mean_i if inner else mean_m
        per_iter = a.outer_loop * mean_m + (a.outer_loop - 1) * mean_i
        out = dict(common, outer_loop=a.outer_loop, inner_loop=a.inner_loop,
                   seconds_per_outer_step=per_step, seconds_matching=mean_m,
                   seconds_inner_loop=mean_i, seconds_per_iteration_estimate=per_iter,
                   matching_samples=match, inner_loop_samples=inner)
        tail = f"iterations={a.iterations} dsa={int(a.dsa)}"
        lines = [f"{head} seconds_per_outer_step={per_step:.3f} {tail}",
                 f"{head} seconds_matching={mean_m:.3f} {tail} "
                 f"samples={','.join(f'{s:.3f}' for s in match)}",
                 f"{head} seconds_inner_loop={mean_i:.3f} {tail} inner_epochs={a.inner_loop} "
                 f"samples={','.join(f'{s:.3f}' for s in inner)}",
                 f"{head} seconds_per_iteration_estimate={per_iter:.3f} {tail} "
                 f"outer_loop={a.outer_loop}"]
    if a.json:
        print(json.dumps(out), flush=True)
    else:
        for line in lines:
            print(line, flush=True)


if __name__ == "__main__":
    main()
