#!/usr/bin/python3
"""Builds test/fixtures/tiny-qwen3/: a random-weight model of the real Qwen3 architecture.

The `onnx:` backbone is meant for Qwen3-Embedding, whose weights cannot be fetched here (and are
far too large for tests). This script hand-writes the same decoder (RMSNorm, q/k norm, rotary
embeddings, grouped-query attention, SwiGLU MLP), seeds its weights, and exports it to ONNX with
the input/output names of the onnx-community Qwen3-Embedding export, so transformers.js loads it
through exactly the code path it uses for the real model. It also writes a byte-level BPE
tokenizer (merges learned here from a small generated corpus) and the torch reference embeddings
the test compares transformers.js against.

Run with Debian's interpreter, which sees python3-torch (1.13) and python3-onnx:
    /usr/bin/python3 scripts/make-tiny-qwen3.py [--out test/fixtures/tiny-qwen3]
Same script, same torch: same bytes (weights and corpus are seeded).

The size flags build bigger random models of the same shape family, for speed measurements only;
Qwen3-Embedding-0.6B's width is
    --hidden 1024 --layers 28 --heads 16 --kv-heads 8 --head-dim 128 --intermediate 3072
"""
import argparse
import json
import os
import random
import sys
import unicodedata
from collections import Counter

import torch
from torch import nn

try:
    import onnx  # only to check the exported graph
except ImportError:  # pragma: no cover
    onnx = None

SEED = 1234

# Field names are those of Qwen/Qwen3-Embedding-0.6B's config.json; the sizes are tiny.
HIDDEN = 64
HEADS = 4
KV_HEADS = 2
HEAD_DIM = 32  # heads * head_dim != hidden, as in the real model (16 * 128 = 2048 vs 1024)
INTERMEDIATE = 128
LAYERS = 2
RMS_EPS = 1e-6
ROPE_THETA = 1_000_000.0
NUM_MERGES = 400

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# Qwen2/Qwen3 pre-tokenizer pattern, verbatim (tokenizers.js evaluates it).
PAT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Texts whose torch embeddings the test compares with transformers.js. Different lengths on
# purpose: batched together they are padded.
REFERENCE_TEXTS = [
    "service frontend cpu 0.93 memory 512MiB latency p99 1200 ms errors 14",
    "ts-order-service: 503 Service Unavailable; pod ts-order-service-7d9f restarted",
    "idle",
]

try:
    import regex as _re

    _PAT = _re.compile(PAT)
    _ASCII_ONLY = False
except ImportError:
    # Python's `re` has no \p{..}; for ASCII text these classes are exactly [A-Za-z] / [0-9].
    import re as _re

    _PAT = _re.compile(
        r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]| ?[^\sA-Za-z0-9]+[\r\n]*"
        r"|\s*[\r\n]+|\s+(?!\S)|\s+"
    )
    _ASCII_ONLY = True


# ------------------------------------------------------------------------------ tokenizer


def bytes_to_unicode():
    """GPT-2's byte -> printable character table, used by every byte-level BPE (Qwen's too)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return bs, [chr(c) for c in cs]


BS, CS = bytes_to_unicode()
BYTE_CHAR = dict(zip(BS, CS))


def pretokenize(text):
    text = unicodedata.normalize("NFC", text)
    if _ASCII_ONLY and not text.isascii():
        raise SystemExit("non-ASCII text needs the `regex` module (apt-get install python3-regex)")
    return ["".join(BYTE_CHAR[b] for b in piece.encode("utf-8")) for piece in _PAT.findall(text)]


def corpus_lines(rng):
    """Words a system-state view is made of, so the merges look like a real vocabulary."""
    services = ["frontend", "cartservice", "checkoutservice", "ts-order-service", "ts-auth-service",
                "ts-travel-service", "paymentservice", "redis", "mysql", "gateway"]
    metrics = ["cpu", "memory", "latency", "p50", "p99", "error rate", "requests", "network rx",
               "network tx", "disk io", "gc pause", "threads", "restarts"]
    words = ["service", "pod", "node", "container", "status", "ok", "error", "warn", "info",
             "timeout", "connection", "refused", "reset", "the", "and", "of", "to", "in", "is",
             "failed", "request", "response", "span", "trace", "log", "http", "grpc", "GET", "POST",
             "Exception", "Unavailable", "Internal", "Server", "Error", "high", "low", "normal",
             "state", "window", "system", "query", "instruct", "given", "describe", "retrieve"]
    units = ["ms", "s", "%", "MiB", "GiB", "req/s"]
    lines = []
    for _ in range(600):
        parts = [rng.choice(services)]
        for _ in range(rng.randint(2, 6)):
            kind = rng.random()
            if kind < 0.4:
                parts.append(f"{rng.choice(metrics)} {rng.randint(0, 2000)}{rng.choice(units)}")
            elif kind < 0.8:
                parts.append(rng.choice(words))
            else:
                parts.append(f"{rng.choice(services)}-{rng.randint(0, 99999):x}")
        lines.append(rng.choice([" ", ": ", ", ", "; "]).join(parts))
    return lines


def train_bpe(lines, num_merges):
    freqs = Counter()
    for line in lines:
        freqs.update(pretokenize(line))
    splits = {w: list(w) for w in freqs}
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for w, f in freqs.items():
            s = splits[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += f
        if not pairs:
            break
        # ties broken by the pair itself, so the result does not depend on dict order
        best, count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < 2:
            break
        merges.append(best)
        joined = best[0] + best[1]
        for w, s in splits.items():
            i, out = 0, []
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(joined)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            splits[w] = out
    return merges


class Tokenizer:
    def __init__(self, merges):
        self.merges = merges
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.vocab = {}
        for c in CS:
            self.vocab[c] = len(self.vocab)
        for a, b in merges:
            if a + b not in self.vocab:
                self.vocab[a + b] = len(self.vocab)
        self.special = {t: len(self.vocab) + i for i, t in enumerate(SPECIAL_TOKENS)}

    def bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, _ = min(pairs)
            if rank == 1 << 30:
                break
            a, b = self.merges[rank]
            out, i = [], 0
            while i < len(parts):
                if i + 1 < len(parts) and parts[i] == a and parts[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            parts = out
        return parts

    def encode(self, text):
        """What the tokenizer.json below does: pieces -> BPE ids, then <|endoftext|> appended."""
        ids = [self.vocab[t] for piece in pretokenize(text) for t in self.bpe(piece)]
        return ids + [self.special["<|endoftext|>"]]

    def tokenizer_json(self):
        eot = self.special["<|endoftext|>"]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                 "normalized": False, "special": True}
                for t, i in self.special.items()
            ],
            "normalizer": {"type": "NFC"},
            "pre_tokenizer": {
                "type": "Sequence",
                "pretokenizers": [
                    {"type": "Split", "pattern": {"Regex": PAT}, "behavior": "Isolated", "invert": False},
                    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
                ],
            },
            # Qwen3-Embedding's tokenizer appends <|endoftext|>; its hidden state is the embedding.
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}],
                "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}},
                         {"Sequence": {"id": "B", "type_id": 1}},
                         {"SpecialToken": {"id": "<|endoftext|>", "type_id": 1}}],
                "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [eot], "tokens": ["<|endoftext|>"]}},
            },
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": "",
                "end_of_word_suffix": "",
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": self.vocab,
                "merges": [f"{a} {b}" for a, b in self.merges],
            },
        }

    def tokenizer_config(self):
        return {
            "add_bos_token": False,
            "add_prefix_space": False,
            "added_tokens_decoder": {
                str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                         "single_word": False, "special": True}
                for t, i in self.special.items()
            },
            "bos_token": None,
            "clean_up_tokenization_spaces": False,
            "eos_token": "<|im_end|>",
            "errors": "replace",
            "model_max_length": 32768,
            "pad_token": "<|endoftext|>",
            # Qwen3-Embedding is used with left padding; the backbone must not rely on it.
            "padding_side": "left",
            "split_special_tokens": False,
            "tokenizer_class": "Qwen2Tokenizer",
            "unk_token": None,
        }


# ------------------------------------------------------------------------------ model

MASK_MIN = torch.finfo(torch.float32).min


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + RMS_EPS) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_layernorm = RMSNorm(HIDDEN)
        self.q_proj = nn.Linear(HIDDEN, HEADS * HEAD_DIM, bias=False)
        self.k_proj = nn.Linear(HIDDEN, KV_HEADS * HEAD_DIM, bias=False)
        self.v_proj = nn.Linear(HIDDEN, KV_HEADS * HEAD_DIM, bias=False)
        self.o_proj = nn.Linear(HEADS * HEAD_DIM, HIDDEN, bias=False)
        self.q_norm = RMSNorm(HEAD_DIM)
        self.k_norm = RMSNorm(HEAD_DIM)
        self.post_attention_layernorm = RMSNorm(HIDDEN)
        self.gate_proj = nn.Linear(HIDDEN, INTERMEDIATE, bias=False)
        self.up_proj = nn.Linear(HIDDEN, INTERMEDIATE, bias=False)
        self.down_proj = nn.Linear(INTERMEDIATE, HIDDEN, bias=False)

    def forward(self, h, cos, sin, allowed, past_k, past_v):
        b, s = h.shape[0], h.shape[1]
        x = self.input_layernorm(h)
        q = self.q_norm(self.q_proj(x).view(b, s, HEADS, HEAD_DIM)).transpose(1, 2)
        k = self.k_norm(self.k_proj(x).view(b, s, KV_HEADS, HEAD_DIM)).transpose(1, 2)
        v = self.v_proj(x).view(b, s, KV_HEADS, HEAD_DIM).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        t = k.shape[2]
        # GQA by expand+reshape: torch 1.13 would bake repeat_interleave's shape into the graph.
        rep = HEADS // KV_HEADS
        kk = k[:, :, None].expand(b, KV_HEADS, rep, t, HEAD_DIM).reshape(b, HEADS, t, HEAD_DIM)
        vv = v[:, :, None].expand(b, KV_HEADS, rep, t, HEAD_DIM).reshape(b, HEADS, t, HEAD_DIM)
        scores = torch.matmul(q, kk.transpose(2, 3)) * (HEAD_DIM ** -0.5)
        # a finite fill keeps fully masked rows (left padding) free of NaN
        scores = scores.masked_fill(~allowed, MASK_MIN)
        o = torch.matmul(torch.softmax(scores, dim=-1), vv)
        h = h + self.o_proj(o.transpose(1, 2).reshape(b, s, HEADS * HEAD_DIM))
        x = self.post_attention_layernorm(h)
        h = h + self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))
        return h, k, v


class TinyQwen3(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab_size, HIDDEN)
        self.layers = nn.ModuleList([DecoderLayer() for _ in range(LAYERS)])
        self.norm = RMSNorm(HIDDEN)
        inv_freq = 1.0 / (ROPE_THETA ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float32) / HEAD_DIM))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        s = input_ids.shape[1]
        t = attention_mask.shape[1]
        freqs = position_ids[:, :, None].float() * self.inv_freq[None, None, :]
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]
        key_pos = torch.arange(t, device=input_ids.device)
        query_pos = torch.arange(s, device=input_ids.device) + (t - s)
        causal = key_pos[None, :] <= query_pos[:, None]
        allowed = causal[None, None] & (attention_mask[:, None, None, :] > 0)
        h = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            h, k, v = layer(h, cos, sin, allowed, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return (self.norm(h), *presents)


def init_weights(model, gen):
    for name, p in model.named_parameters():
        with torch.no_grad():
            if name.endswith("norm.weight"):
                # not all ones, so a norm that is skipped or misplaced changes the output
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            elif p.dim() == 2 and "embed" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / (p.shape[1] ** 0.5))


def run(model, ids, mask=None, past_len=0, past=None):
    ids = torch.tensor(ids, dtype=torch.long)
    if ids.dim() == 1:
        ids = ids[None]
    b, s = ids.shape
    if mask is None:
        mask = torch.ones(b, past_len + s, dtype=torch.long)
    if past is None:
        past = [torch.zeros(b, KV_HEADS, past_len, HEAD_DIM) for _ in range(2 * LAYERS)]
    # as transformers.js makes them: cumulative count of real tokens, 1 at padding
    pos = (torch.cumsum(mask, dim=1) - 1).masked_fill(mask == 0, 1)[:, -s:]
    with torch.no_grad():
        return model(ids, mask, pos, *past)


def l2(v):
    return v / v.norm()


def main():
    global HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, INTERMEDIATE
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "tiny-qwen3"))
    ap.add_argument("--hidden", type=int, default=HIDDEN)
    ap.add_argument("--layers", type=int, default=LAYERS)
    ap.add_argument("--heads", type=int, default=HEADS)
    ap.add_argument("--kv-heads", type=int, default=KV_HEADS)
    ap.add_argument("--head-dim", type=int, default=HEAD_DIM)
    ap.add_argument("--intermediate", type=int, default=INTERMEDIATE)
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    HIDDEN, LAYERS, HEADS, KV_HEADS = args.hidden, args.layers, args.heads, args.kv_heads
    HEAD_DIM, INTERMEDIATE = args.head_dim, args.intermediate
    assert HEADS % KV_HEADS == 0, "heads must be a multiple of kv-heads"
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)

    torch.manual_seed(SEED)
    tok = Tokenizer(train_bpe(corpus_lines(random.Random(SEED)), NUM_MERGES))
    vocab_size = len(tok.vocab) + len(SPECIAL_TOKENS)

    model = TinyQwen3(vocab_size).eval()
    init_weights(model, torch.Generator().manual_seed(SEED))

    # The KV path must agree with the full pass, or the exported cache inputs would lie.
    ids = tok.encode(REFERENCE_TEXTS[0])
    full = run(model, ids)
    head = run(model, ids[:5])
    tail = run(model, ids[5:], mask=torch.ones(1, len(ids), dtype=torch.long), past=list(head[1:]))
    assert torch.allclose(full[0][:, 5:], tail[0], atol=1e-5), "KV-cache pass differs from full pass"

    # Export traced with a non-zero past length, so no dimension is folded to a constant.
    b, s, p = 2, 3, 2
    dummy = (
        torch.randint(0, vocab_size, (b, s)),
        torch.ones(b, p + s, dtype=torch.long),
        torch.arange(p, p + s)[None].expand(b, s).contiguous(),
        *[torch.randn(b, KV_HEADS, p, HEAD_DIM) for _ in range(2 * LAYERS)],
    )
    past_names = [f"past_key_values.{i}.{kv}" for i in range(LAYERS) for kv in ("key", "value")]
    present_names = [f"present.{i}.{kv}" for i in range(LAYERS) for kv in ("key", "value")]
    dynamic = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "last_hidden_state": {0: "batch_size", 1: "sequence_length"},
    }
    for n in past_names:
        dynamic[n] = {0: "batch_size", 2: "past_sequence_length"}
    for n in present_names:
        dynamic[n] = {0: "batch_size", 2: "total_sequence_length"}
    onnx_path = os.path.join(out, "onnx", "model.onnx")
    torch.onnx.export(
        model, dummy, onnx_path,
        input_names=["input_ids", "attention_mask", "position_ids", *past_names],
        output_names=["last_hidden_state", *present_names],
        dynamic_axes=dynamic, opset_version=14, do_constant_folding=True,
    )
    if onnx is not None:
        onnx.checker.check_model(onnx.load(onnx_path))

    config = {
        "architectures": ["Qwen3ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": tok.special["<|endoftext|>"],
        "eos_token_id": tok.special["<|endoftext|>"],
        "head_dim": HEAD_DIM,
        "hidden_act": "silu",
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": INTERMEDIATE,
        "max_position_embeddings": 32768,
        "max_window_layers": LAYERS,
        "model_type": "qwen3",
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "num_key_value_heads": KV_HEADS,
        "rms_norm_eps": RMS_EPS,
        "rope_scaling": None,
        "rope_theta": ROPE_THETA,
        "sliding_window": None,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": vocab_size,
        "transformers.js_config": {"dtype": "fp32"},
        "_note": "random weights, made by scripts/make-tiny-qwen3.py; a test fixture, not a model",
    }
    write_json(os.path.join(out, "config.json"), config)
    write_json(os.path.join(out, "tokenizer.json"), tok.tokenizer_json())
    write_json(os.path.join(out, "tokenizer_config.json"), tok.tokenizer_config())

    # Reference: each text alone (no padding), so any padding effect in a batch shows up.
    expected = {"texts": REFERENCE_TEXTS, "ids": [], "last": [], "lastRaw": [], "mean": []}
    for text in REFERENCE_TEXTS:
        ids = tok.encode(text)
        h = run(model, ids)[0][0]
        expected["ids"].append(ids)
        expected["lastRaw"].append([round(float(x), 8) for x in h[-1]])
        expected["last"].append([round(float(x), 8) for x in l2(h[-1])])
        expected["mean"].append([round(float(x), 8) for x in l2(h.mean(0))])

    # Padding must not change a text's last-token state: left-pad the short text in a batch.
    a, c = tok.encode(REFERENCE_TEXTS[0]), tok.encode(REFERENCE_TEXTS[2])
    pad = tok.special["<|endoftext|>"]
    batch = [a, [pad] * (len(a) - len(c)) + c]
    mask = torch.tensor([[1] * len(a), [0] * (len(a) - len(c)) + [1] * len(c)])
    hb = run(model, batch, mask=mask)[0]
    assert torch.allclose(l2(hb[1, -1]), torch.tensor(expected["last"][2]), atol=1e-5), "left padding leaks"
    write_json(os.path.join(out, "expected.json"), expected, indent=None)

    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(f"wrote {out}: vocab {vocab_size}, {sum(p.numel() for p in model.parameters())} parameters, "
          f"{size / 1024:.0f} KiB", file=sys.stderr)


def write_json(path, obj, indent=1):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=indent, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
