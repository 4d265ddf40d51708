"""Export the fine-tuned MiniLM role tagger to ONNX, quantize it to int8, check it
against torch and write it into a model folder sourcetrace runs with onnxruntime.

Run in the training venv (torch, onnx, onnxruntime; see train/transformer_tagger.py),
after the training has written WORKDIR/final.pt:

    /work/trainenv/bin/python scripts/export_role_tagger.py --workdir runs/roles-transformer

It follows scripts/export_minilm.py:

1. rebuilds the tagger (encoder + linear head) and loads final.pt (or, with
   --checkpoint, the last checkpoint.pt of an unfinished run),
2. exports it (input_ids, attention_mask, token_type_ids -> logits [batch, seq, 7])
   with dynamic batch and sequence axes,
3. quantizes MatMul/Gemm weights and the embedding tables (Gather) to int8 per
   output channel with onnxruntime.quantization.quantize_dynamic,
4. runs torch, the fp32 and the int8 ONNX models on the validation windows and
   fails unless the int8 model's labels agree with torch's on at least
   --min-agreement of the wordpieces (default 0.97: the shipped model agrees on
   0.977; keeping the head or the whole last layer in fp32 changed that by less
   than 0.001, so the drift is spread over the network, on wordpieces near a tie),
5. writes model.onnx, tokenizer.json, component.json (kind "transformer", labels,
   window, stride, the training log's figures, sha256 of the model) and LICENSE
   (Apache-2.0: the weights derive from all-MiniLM-L6-v2) to --dest
   (default src/sourcetrace/models/roles-transformer).
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "src" / "sourcetrace" / "models" / "roles-transformer"
APACHE_LICENSE = Path("/usr/share/common-licenses/Apache-2.0")


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=ROOT / "runs" / "roles-transformer")
    ap.add_argument("--checkpoint", action="store_true",
                    help="export the last checkpoint.pt instead of final.pt")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/polnear/train.jsonl",
                    help="PolNeAR train JSONL (its validation split checks the export)")
    ap.add_argument("--dest", type=Path, default=DEST)
    ap.add_argument("--model-dir", type=Path, default=None)
    ap.add_argument("--min-agreement", type=float, default=0.97)
    ap.add_argument("--check-windows", type=int, default=160)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    import numpy
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer

    torch.set_num_threads(args.threads)
    trainer = _load(ROOT / "train" / "transformer_tagger.py", "st_train_tagger")
    tw = trainer._load_windowing()
    source = args.workdir / ("checkpoint.pt" if args.checkpoint else "final.pt")
    if not source.is_file():
        print(f"FAILED: {source} not found (train first)", file=sys.stderr)
        return 1
    state = torch.load(source, weights_only=False)
    log_path = args.workdir / "train_log.json"
    log = state.get("log") or (json.loads(log_path.read_text()) if log_path.is_file() else {})
    cfg = state.get("config") or log["config"]
    model_dir = args.model_dir or trainer.find_model_dir()
    model = trainer.make_model(model_dir, cfg, len(tw.LABELS))
    model.load_state_dict(state["model"])
    model.eval()

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    records = [json.loads(line) for line in args.data.open(encoding="utf-8") if line.strip()]
    val = [r for r in records if trainer.is_validation(r["id"], cfg["val_every"])]
    # a small --data (corrections) may have no article in the validation split
    windows_ = trainer.build_windows(val or records[:10], tokenizer, tw, cfg,
                                     cfg["stride"])[:args.check_windows]

    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "model.onnx"
        ids, mask, types, _ = trainer.collate(windows_[:2], tw)
        torch.onnx.export(
            model, (ids, mask, types), str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["logits"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in
                          ("input_ids", "attention_mask", "token_type_ids", "logits")},
            opset_version=17, dynamo=False)
        feeds_list, refs, keeps = [], [], []
        for start in range(0, len(windows_), 8):
            ids, mask, types, labels = trainer.collate(windows_[start:start + 8], tw)
            with torch.no_grad():
                refs.append(model(ids, mask, types).argmax(-1).numpy())
            keeps.append(labels.numpy() != -100)
            feeds_list.append({"input_ids": ids.numpy(), "attention_mask": mask.numpy(),
                               "token_type_ids": types.numpy()})

        def agreement(path) -> float:
            sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            hit = total = 0
            for feeds, ref, keep in zip(feeds_list, refs, keeps):
                out = sess.run(None, feeds)[0].argmax(-1)
                hit += int((out[keep] == ref[keep]).sum())
                total += int(keep.sum())
            return round(hit / max(1, total), 4)

        rates = {"fp32": agreement(fp32)}
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Gemm", "Gather"])
        rates["int8"] = agreement(int8)
        print(f"label agreement with torch on {len(windows_)} validation windows: {rates}",
              flush=True)
        if rates["int8"] < args.min_agreement:
            print("FAILED: the quantized model disagrees with torch", file=sys.stderr)
            return 1

        args.dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(int8, args.dest / "model.onnx")
        shutil.copy(model_dir / "tokenizer.json", args.dest / "tokenizer.json")
        shutil.copy(APACHE_LICENSE, args.dest / "LICENSE")
    digest = hashlib.sha256((args.dest / "model.onnx").read_bytes()).hexdigest()
    info = {
        "kind": "transformer",
        "base_model": cfg.get("base_model", "all-MiniLM-L6-v2"),
        "labels": list(tw.LABELS),
        "window": cfg["window"],
        "stride": cfg["stride"],
        "threads": 1,
        "seed": cfg["seed"],
        "steps": state.get("step", cfg["max_steps"]) if args.checkpoint else cfg["max_steps"],
        "train_seconds": round(float(log.get("seconds", 0.0))),
        "windows_train": log.get("windows_train"),
        "val": (log.get("val") or [None])[-1],
        "agreement_with_torch": rates,
        "config": cfg,
        "sha256": digest,
    }
    (args.dest / "component.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    size = (args.dest / "model.onnx").stat().st_size / 1e6
    print(f"wrote {args.dest} ({size:.1f} MB model, sha256 {digest[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
