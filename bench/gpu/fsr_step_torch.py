#!/usr/bin/env python3
"""One FSR training iteration (fsr-spec §4) in PyTorch eager: the timing peer of FsrNative's `fsr_step` benchmark
(bench/gpu/runner `fsr-step`, which runs the real FsrTrainingStep through IterationProfiler.Time).

Random weights, random normalised views (B images × 2 views) and multi-hot labels; the iteration is the one
IterationProfiler times: VOC schedule at iteration 4,000 (every loss term on, mask chosen from the CAM, teacher
temperature 0.07). What it does, in order (spec sections in the code):
  multi-scale CAM (scales 1, 0.5, 1.5 with flips, no grad) of [V1; V2] in one batched pass, as FsrNative's StepCams
  (the authors' code makes two passes, V2 before and V1 after the forward: the same FLOPs) → block mask of V2 (§4.1)
  → student forward of [V1; V2] (mask token on V2) → teacher projector forward (no grad) → MLSM (§6.1) → PAR pseudo
  labels (§3.6) → balanced seg CE (§6.2) → dense-energy regulariser (§6.4, APPROXIMATED: see dense_energy) → patch-token
  contrast (§6.3) → the two FSR losses with centering (§6.5) → backward → AdamW, 4 groups (§7) → EMA (§4 (9)).
Not done (as in FsrNative's profiler): gradient clipping, the trainer's logging reads. Drop-path rate 0 (timing).

  python3 fsr_step_torch.py [--device cuda] [--batch 1] [--size 448] [--steps 5 --warmup 2] [--dtype fp32|bf16] [--json F]
  python3 fsr_step_torch.py --device cpu --size 64 --dim 48 --depth 4 --heads 4 --batch 2 --steps 2     (a smoke test)
Works with torch 1.13 (the attention is then written out) and 2.x (scaled_dot_product_attention).
"""
import argparse, copy, json, math, resource, sys, time

ITERATION, MAX_ITERS, WARMUP_ITERS = 4000, 20000, 1500      # the profiled iteration of the voc preset (§6.6, §7)
DILATIONS = (1, 2, 4, 8, 12, 24)                            # PAR (§3.6)
OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda"); ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--size", type=int, default=448); ap.add_argument("--patch", type=int, default=16)
    ap.add_argument("--dim", type=int, default=768); ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--heads", type=int, default=12); ap.add_argument("--classes", type=int, default=21, help="K, with background")
    ap.add_argument("--block-size", type=int, default=64); ap.add_argument("--cam-scales", default="1,0.5,1.5")
    ap.add_argument("--steps", type=int, default=5); ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32"); ap.add_argument("--tf32", action="store_true")
    ap.add_argument("--json"); ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dry-run", action="store_true", help="print the configuration without importing torch")
    return ap.parse_args(argv)


def shape_text(a):
    voc = (a.dim, a.depth, a.heads, a.patch) == (768, 12, 12, 16)
    return f"{'voc' if voc else f'ViT {a.depth}x{a.dim} h{a.heads} p{a.patch}'}, {a.size} px, batch {a.batch}"


def build(torch, a):
    nn, F = torch.nn, torch.nn.functional
    sdpa = getattr(F, "scaled_dot_product_attention", None)   # torch ≥ 2.0

    def attention(q, k, v):
        if sdpa is not None:
            return sdpa(q, k, v)
        return (q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5).softmax(-1) @ v

    class Block(nn.Module):   # §3.1: pre-norm, 12 heads × 64, qkv with bias, MLP ×4 exact GELU, LN eps 1e-6
        def __init__(s, d, h):
            super().__init__(); s.h = h
            s.norm1, s.norm2 = nn.LayerNorm(d, eps=1e-6), nn.LayerNorm(d, eps=1e-6)
            s.qkv, s.proj, s.fc1, s.fc2 = nn.Linear(d, 3 * d), nn.Linear(d, d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(s, x):
            b, n, d = x.shape
            q, k, v = s.qkv(s.norm1(x)).reshape(b, n, 3, s.h, d // s.h).permute(2, 0, 3, 1, 4)
            x = x + s.proj(attention(q, k, v).transpose(1, 2).reshape(b, n, d))
            return x + s.fc2(F.gelu(s.fc1(s.norm2(x))))

    class Aggregation(nn.Module):   # §3.1 aggregation: cross-attention of the query token over all patch tokens
        def __init__(s, d, h):
            super().__init__(); s.h = h
            s.norm1, s.norm2 = nn.LayerNorm(d, eps=1e-6), nn.LayerNorm(d, eps=1e-6)
            s.q, s.k, s.v, s.proj = (nn.Linear(d, d) for _ in range(4))
            s.fc1, s.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(s, q, p):
            b, n, d = p.shape
            z = s.norm1(torch.cat([q, p], 1))                    # one LayerNorm over all 785 rows
            heads = lambda t: t.reshape(b, t.shape[1], s.h, d // s.h).transpose(1, 2)
            o = attention(heads(s.q(z[:, :1])), heads(s.k(z[:, 1:])), heads(s.v(z[:, 1:])))
            q = q + s.proj(o.transpose(1, 2).reshape(b, 1, d))
            return q + s.fc2(F.gelu(s.fc1(s.norm2(q))))

    class Encoder(nn.Module):   # §3.1: patch tokens only, mask token before the position embedding
        def __init__(s):
            super().__init__(); d = a.dim; s.grid = a.size // a.patch
            s.patch_embed = nn.Conv2d(3, d, a.patch, a.patch)
            s.pos_embed = nn.Parameter(torch.randn(1 + s.grid * s.grid, d) * 0.02)   # class slot unused
            s.cls_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
            s.mask_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
            s.blocks = nn.ModuleList(Block(d, a.heads) for _ in range(a.depth))
            s.agg = nn.ModuleList(Aggregation(d, a.heads) for _ in range(2))
            s.norm = nn.LayerNorm(d, eps=1e-6); s.aux_index = a.depth - 3               # aux: block index 9 of 12

        def forward(s, x, mask=None):
            t = s.patch_embed(x); b, d, gh, gw = t.shape
            t = t.flatten(2).transpose(1, 2)
            if mask is not None:
                m = mask.reshape(b, -1, 1).to(t.dtype)
                t = t * (1 - m) + s.mask_token.to(t.dtype) * m
            pe = s.pos_embed[1:]
            if (gh, gw) != (s.grid, s.grid):                   # other CAM scales: bicubic resize on the fly
                pe = F.interpolate(pe.reshape(1, s.grid, s.grid, d).permute(0, 3, 1, 2), size=(gh, gw),
                                   mode="bicubic", align_corners=False).permute(0, 2, 3, 1).reshape(gh * gw, d)
            t = t + pe
            for i, blk in enumerate(s.blocks):
                t = blk(t)
                if i == s.aux_index:
                    aux = t
            q = s.cls_token.expand(b, -1, -1)
            for blk in s.agg:
                q = blk(q, t)
            return s.norm(torch.cat([q, t], 1)), aux, (gh, gw)

    class Net(nn.Module):   # §3.2 heads on V1, §3.3 projector on all 785 tokens of both views
        def __init__(s):
            super().__init__(); d, c = a.dim, a.classes - 1; dil = 5
            s.encoder = Encoder()
            s.classifier, s.aux_classifier = nn.Conv2d(d, c, 1, bias=False), nn.Conv2d(d, c, 1, bias=False)
            s.decoder = nn.Sequential(nn.Conv2d(d, 512, 3, padding=dil, dilation=dil, bias=False), nn.ReLU(),
                                      nn.Conv2d(512, 512, 3, padding=dil, dilation=dil, bias=False), nn.ReLU(),
                                      nn.Conv2d(512, a.classes, 1, bias=False))
            s.proj = nn.Sequential(nn.Linear(d, 2048), nn.GELU(), nn.Linear(2048, 2048), nn.GELU(), nn.Linear(2048, 256))
            s.last_v = nn.Parameter(torch.empty(4096, 256).uniform_(-1 / 16, 1 / 16))   # weight norm, gain fixed to 1

        def project(s, e):
            return F.linear(F.normalize(s.proj(e), dim=-1), F.normalize(s.last_v, dim=1))

        def maps(s, e, aux, g, b):
            fmap = e[:b, 1:].transpose(1, 2).reshape(b, -1, *g)
            return fmap, aux[:b].transpose(1, 2).reshape(b, -1, *g)

        def forward(s, x, mask):
            e, aux, g = s.encoder(x, mask); b = x.shape[0] // 2
            fmap, amap = s.maps(e, aux, g, b)
            gmp = lambda t: F.adaptive_max_pool2d(t, 1)
            return (s.classifier(gmp(fmap)).flatten(1), s.aux_classifier(gmp(amap)).flatten(1), s.decoder(fmap),
                    fmap, s.project(e))

        def cams(s, x):
            e, aux, g = s.encoder(x)
            fmap, amap = s.maps(e, aux, g, x.shape[0])
            return torch.cat([s.classifier(fmap), s.aux_classifier(amap)], 1)

        def teacher_projection(s, x):
            return s.project(s.encoder(x)[0])

    return Net


def run(a):
    import torch
    F = torch.nn.functional
    dev = torch.device(a.device)
    torch.manual_seed(a.seed)
    torch.backends.cuda.matmul.allow_tf32 = a.tf32          # fp32 = true fp32, as FsrNative's default
    torch.backends.cudnn.allow_tf32 = a.tf32
    B, S, C = a.batch, a.size, a.classes - 1
    scales = [float(s) for s in a.cam_scales.split(",")]
    amp = lambda: torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=a.dtype == "bf16")
    mean = torch.tensor([0.485, 0.456, 0.406], device=dev).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=dev).view(1, 3, 1, 1)

    student = build(torch, a)().to(dev).train()
    teacher = copy.deepcopy(student).requires_grad_(False)      # §3.4: an exact copy, never gets gradients

    # §7: AdamW, 4 groups; LR of the profiled iteration (warm-up done, cosine); §5: EMA momentum, teacher temperature.
    mult = 0.5 * (1 + math.cos(math.pi * (ITERATION - WARMUP_ITERS) / (MAX_ITERS - WARMUP_ITERS)))
    groups = [[], [], [], []]
    for name, p in student.named_parameters():
        one_d = p.ndim == 1 or name in ("encoder.pos_embed", "encoder.cls_token", "encoder.mask_token")
        groups[2 * (not name.startswith("encoder.")) + (0 if one_d else 1)].append(p)
    opt = torch.optim.AdamW([dict(params=g, lr=(6e-5 if i < 2 else 6e-4) * mult, weight_decay=0.05 * (i % 2))
                             for i, g in enumerate(groups)], betas=(0.9, 0.999), eps=1e-8)
    momentum = 1 - 0.5 * (1 - 0.9995) * (1 + math.cos(math.pi * ITERATION / MAX_ITERS))
    tau_t, tau_s = 0.07, 0.1
    centers = {"cls": torch.zeros(4096, device=dev), "pat": torch.zeros(4096, device=dev)}

    # Random normalised views and multi-hot labels (class 0 always present), as IterationProfiler.RandomBatch.
    v1, v2 = torch.randn(B, 3, S, S, device=dev), torch.randn(B, 3, S, S, device=dev)
    y = (torch.rand(B, C, device=dev) > 0.7).float(); y[:, 0] = 1

    @torch.no_grad()
    def multiscale_cam(x):   # §3.5: scales with flips, max of the pair, ReLU, sum, per-map min/max normalisation
        n, _, h, w = x.shape; total = 0
        for s in scales:
            xs = x if s == 1 else F.interpolate(x, size=(int(s * h), int(s * w)), mode="bilinear", align_corners=False)
            with amp():
                cams = student.cams(torch.cat([xs, xs.flip(3)]))
            up = F.interpolate(cams.float(), size=(h, w), mode="bilinear", align_corners=False)
            total = total + torch.maximum(up[:n], up[n:].flip(3)).relu()
        total = total - total.amin((2, 3), keepdim=True)
        total = total / (total.amax((2, 3), keepdim=True) + 1e-5)
        return total[:, :C], total[:, C:]

    @torch.no_grad()
    def block_mask(aux2):   # §4.1: uncertain-first top-k of 64 px blocks, ratio 0.4, expanded to tokens
        nb, tpb = max(1, S // a.block_size), a.block_size // a.patch
        u = (y[:, :, None, None] * aux2).amax(1)
        unc = ((u > 0.2) & (u < 0.7))[:, ::a.block_size, ::a.block_size][:, :nb, :nb]
        score = torch.rand(B, nb * nb, device=dev) + unc.flatten(1).float()
        m = torch.zeros(B, nb * nb, device=dev).scatter_(1, score.topk(math.ceil(0.4 * nb * nb), 1).indices, 1.0)
        m = m.view(B, nb, nb).repeat_interleave(tpb, 1).repeat_interleave(tpb, 2)
        g = S // a.patch
        return F.pad(m, (0, g - m.shape[2], 0, g - m.shape[1]))          # (B, gh, gw); blocks cover the grid at 448

    def neighbours(x):   # (N, c, h, w) → (N, c, 48, h, w): 8 neighbours per dilation, replicate padding
        p, (h, w) = max(DILATIONS), x.shape[-2:]
        xp = F.pad(x, (p, p, p, p), mode="replicate")
        return torch.stack([xp[:, :, p + dy * d:p + dy * d + h, p + dx * d:p + dx * d + w]
                            for d in DILATIONS for dy, dx in OFFSETS], 2)

    @torch.no_grad()
    def par(img, q):   # §3.6 PAR: colour + 0.01·position affinities, 10 propagation steps
        n = neighbours(img)
        a_col = -((((n - img.unsqueeze(2)).abs() / (n.std(2, keepdim=True) + 1e-8) / 0.3) ** 2).mean(1, keepdim=True))
        dist = torch.tensor([d * (math.sqrt(2) if dy and dx else 1) for d in DILATIONS for dy, dx in OFFSETS], device=dev)
        b_pos = -((dist / (dist.std() + 1e-8) / 0.3) ** 2)
        w = a_col.softmax(2) + 0.01 * b_pos.softmax(0).view(1, 1, -1, 1, 1)
        for _ in range(10):
            q = (neighbours(q) * w).sum(2)
        return q

    @torch.no_grad()
    def pseudo_labels(cam1):   # §3.6: both background levels (0.7, 0.25) in one batched PAR call at half resolution
        img = ((v1 * std + mean) * 255).trunc().clamp(0, 255) / 255               # 8-bit grey levels, truncated
        valid = y[:, :, None, None] * cam1
        q = torch.cat([torch.cat([torch.full_like(valid[:, :1], t), valid], 1) for t in (0.7, 0.25)])
        present = torch.cat([torch.ones(B, 1, device=dev), y], 1).bool().repeat(2, 1)[:, :, None, None]
        half = lambda t: F.interpolate(t, scale_factor=0.5, mode="bilinear", align_corners=False)
        q = half(q).masked_fill(~present, float("-inf")).softmax(1)               # only bg + present classes
        q = par(half(img).repeat(2, 1, 1, 1), q)
        lab = F.interpolate(q, size=(S, S), mode="bilinear", align_corners=False).argmax(1)
        hi, lo = lab[:B], lab[B:]
        pl = hi.masked_fill(hi == 0, 255)
        return pl.masked_fill((hi == 0) & (lo == 0), 0)

    def balanced_ce(logits, pl):   # §6.2: 0.5·CE(bg pixels) + 0.5·CE(fg pixels), each a mean over its pixels
        ce = F.cross_entropy(logits, pl, ignore_index=255, reduction="none")
        bg, fg = (pl == 0).float(), ((pl > 0) & (pl < 255)).float()
        return 0.5 * (ce * bg).sum() / bg.sum().clamp(min=1) + 0.5 * (ce * fg).sum() / fg.sum().clamp(min=1)

    def dense_energy(prob, pl):
        """§6.4, APPROXIMATED: the reference filters with a permutohedral lattice (Krähenbühl's CPU code); here the same
        cost −1e-7·Σ P·(G ⊙ Bilateral(P))/B with the bilateral filter as a Gaussian filter on a bilateral grid: every
        half-resolution pixel is splatted (scatter_add, nearest cell) onto a 5-D grid of cells σ_xy = 50 px × σ_rgb = 15
        grey levels (7·7·20³ cells at 448 px, one empty cell of padding per side), blurred by the 3-tap Gaussian
        stencil [e^-½, 1, e^-½] along each of the 5 dimensions, and read back at each pixel's cell (gather). The grid
        is an approximation of the exact kernel exp(−½|Δf|²); autograd differentiates it (through splat, blur, slice);
        the gate G is a constant, as in the reference."""
        img = F.interpolate(((v1 * std + mean) * 255).clamp(0, 255), scale_factor=0.5, mode="nearest")
        p = F.interpolate(prob, scale_factor=0.5, mode="bilinear", align_corners=False)
        lab = F.interpolate(pl[:, None].float(), scale_factor=0.5, mode="nearest")[:, 0]
        gate = (1 - p.detach().amax(1)).clamp(min=0).masked_fill(lab == 255, 1.0)
        b, k, h, w = p.shape
        yy = torch.arange(h, device=dev).view(1, h, 1).expand(b, h, w).float()
        xx = torch.arange(w, device=dev).view(1, 1, w).expand(b, h, w).float()
        feats = [yy / 50, xx / 50] + [img[:, c] / 15 for c in range(3)]
        sizes = [round((h - 1) / 50) + 3, round((w - 1) / 50) + 3] + [round(255 / 15) + 3] * 3
        idx = torch.zeros(b, h, w, dtype=torch.long, device=dev)
        for f, n in zip(feats, sizes):
            idx = idx * n + f.round().long() + 1
        idx = idx.view(b, 1, -1).expand(b, k, -1)
        grid = p.new_zeros(b, k, math.prod(sizes)).scatter_add(2, idx, p.flatten(2)).view(b, k, *sizes)
        for dim in range(2, 7):                                  # the one padding cell makes roll exact
            grid = grid + math.exp(-0.5) * (grid.roll(1, dim) + grid.roll(-1, dim))
        r = grid.view(b, k, -1).gather(2, idx).view(b, k, h, w) * gate[:, None]
        return -1e-7 * (p * r).sum() / b

    def ptc(fmap, aux1):   # §6.3: token labels from V1's aux CAM (two thresholds), |cos| of the final patch tokens
        b, d, gh, gw = fmap.shape
        with torch.no_grad():
            cam = F.interpolate(aux1, size=(gh, gw), mode="bilinear", align_corners=False)
            v, i = (y[:, :, None, None] * cam).max(1)
            lab = (i + 1).masked_fill(v <= 0.7, 255).masked_fill(v <= 0.25, 0).flatten(1)
            ok = (lab != 255)[:, :, None] & (lab != 255)[:, None, :] & ~torch.eye(gh * gw, dtype=torch.bool, device=dev)
            same = lab[:, :, None] == lab[:, None, :]
            pos, neg = (same & ok).float(), (~same & ok).float()
        x = F.normalize(fmap.flatten(2).transpose(1, 2), dim=-1)
        s = (x @ x.transpose(1, 2)).abs()
        return 0.5 * (1 - (s * pos).sum() / (pos.sum() + 1)) + 0.5 * (s * neg).sum() / (neg.sum() + 1)

    def dino_ce(t, s, center):   # §6.5: −Σ softmax((t − c)/τ_t) · log_softmax(s/τ_s)
        return -(((t - center) / tau_t).softmax(-1) * F.log_softmax(s / tau_s, -1)).sum(-1)

    def step():
        cam, aux = multiscale_cam(torch.cat([v1, v2]))                          # §4 (1), (4)
        cam1, aux1, aux2 = cam[:B], aux[:B], aux[B:]
        mask2 = block_mask(aux2)
        with amp():                                                            # §4 (2)
            cls, aux_cls, seg, fmap, s_proj = student(torch.cat([v1, v2]), torch.cat([torch.zeros_like(mask2), mask2]))
            with torch.no_grad():
                t_proj = teacher.teacher_projection(torch.cat([v1, v2])).float()
        s_proj = s_proj.float()
        l_cls = F.multilabel_soft_margin_loss(cls.float(), y) + F.multilabel_soft_margin_loss(aux_cls.float(), y)  # §6.1
        pl = pseudo_labels(cam1)                                               # §4 (4)
        seg_up = F.interpolate(seg.float(), size=(S, S), mode="bilinear", align_corners=False)
        l_seg, l_reg = balanced_ce(seg_up, pl), dense_energy(seg_up.softmax(1), pl)   # §4 (5)
        l_aff = ptc(fmap.float(), aux1)                                        # §4 (6)
        l_fsr_cls = dino_ce(t_proj[:B, 0], s_proj[B:, 0], centers["cls"]).mean()        # §4 (7): teacher V1 → student V2
        centers["cls"] = 0.9 * centers["cls"] + 0.1 * t_proj[:B, 0].mean(0)
        m = mask2.flatten(1)
        h = dino_ce(t_proj[B:, 1:], s_proj[B:, 1:], centers["pat"])
        l_fsr_pat = ((h * m).sum(1) / m.sum(1).clamp(min=1)).mean()
        centers["pat"] = 0.9 * centers["pat"] + 0.1 * t_proj[B:, 1:].reshape(-1, 4096).mean(0)
        total = l_cls + 0.1 * l_fsr_cls + 0.1 * l_fsr_pat + 0.2 * l_aff + 0.1 * l_seg + 0.05 * l_reg   # §4 (8)
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        with torch.no_grad():                                                  # §4 (9): EMA over all parameters
            tp, sp = list(teacher.parameters()), list(student.parameters())
            torch._foreach_mul_(tp, momentum)
            torch._foreach_add_(tp, sp, alpha=1 - momentum)
        return total.detach()

    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    out = dict(engine="pytorch", version=torch.__version__, name=f"fsr_step_b{B}", shape=shape_text(a),
               device=torch.cuda.get_device_name(dev) if cuda else "cpu", dtype=a.dtype, batch=B, size=S,
               dim=a.dim, depth=a.depth, heads=a.heads, patch=a.patch, steps=a.steps, warmup=a.warmup,
               parameters=sum(p.numel() for p in student.parameters()),
               peak_mem_kind="torch.cuda.max_memory_allocated" if cuda else "process peak RSS (ru_maxrss)")
    print(f"PyTorch {torch.__version__} on {out['device']}: FSR step, {out['shape']}, {a.dtype}, "
          f"{out['parameters'] / 1e6:.1f} M parameters, {a.warmup} warm-up + {a.steps} timed iterations")
    try:
        for _ in range(a.warmup):
            loss = step()
        sync(); t0 = time.perf_counter()
        for _ in range(a.steps):
            loss = step()
        sync()
        out["fsr_step_ms"] = (time.perf_counter() - t0) * 1e3 / a.steps
        out["loss"] = float(loss)
    except RuntimeError as e:   # torch.cuda.OutOfMemoryError is a RuntimeError: record it, keep the peak
        out["error"] = str(e).splitlines()[0]
    out["peak_mem_bytes"] = torch.cuda.max_memory_allocated(dev) if cuda else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"fsr_step: {out.get('fsr_step_ms', float('nan')):.1f} ms/iteration, peak {out['peak_mem_bytes'] / 2**20:.0f} MiB "
          f"({out['peak_mem_kind']})" + (f", FAILED: {out['error']}" if "error" in out else f", loss {out['loss']:.4f}"))
    # compare.py reads "results" (the format of torch_ops.py and the GPU runner).
    row = dict(name=out["name"], shape=out["shape"], peak_mem_bytes=out["peak_mem_bytes"], peak_mem_kind=out["peak_mem_kind"])
    row.update({"ms": out["fsr_step_ms"]} if "fsr_step_ms" in out else {"error": out["error"]})
    out["results"] = [row]
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0 if "error" not in out else 1


def main(argv):
    a = parse(argv)
    if a.size % a.patch or a.dim % a.heads or a.depth < 3:
        print(f"bad shape: --size {a.size} must be a multiple of --patch {a.patch}, --dim {a.dim} of --heads {a.heads}, "
              f"--depth {a.depth} ≥ 3 (aux features of block depth-3)", file=sys.stderr)
        return 3
    if a.dry_run:
        print(f"fsr_step (PyTorch eager, dry run, torch not imported): {shape_text(a)}, {a.dtype}, device {a.device}")
        return 0
    return run(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
