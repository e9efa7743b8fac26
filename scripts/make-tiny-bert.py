#!/usr/bin/python3
"""Builds test/fixtures/tiny-bert/: a random-weight BERT in the sentence-transformers layout.

The `onnx:` backbone's other family: encoder models pooled by mean (all-MiniLM, bge, e5…). Like
scripts/make-tiny-qwen3.py this hand-writes the architecture (post-LayerNorm encoder, GELU,
learned positions, token types), seeds it, exports ONNX with the names transformers.js expects
(input_ids, attention_mask, token_type_ids -> last_hidden_state), writes a WordPiece tokenizer and
1_Pooling/config.json, and the torch reference embeddings of a few texts.

    /usr/bin/python3 scripts/make-tiny-bert.py [--out test/fixtures/tiny-bert]
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

SEED = 4321
HIDDEN = 32
HEADS = 4
INTERMEDIATE = 64
LAYERS = 2
MAX_POS = 128
LN_EPS = 1e-12
WORDS = 200

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
REFERENCE_TEXTS = [
    "service frontend cpu 0.93 memory 512MiB latency p99 1200 ms errors 14",
    "ts-order-service: 503 Service Unavailable; pod ts-order-service-7d9f restarted",
    "idle",
]
MASK_MIN = torch.finfo(torch.float32).min


def is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def basic_split(text):
    """BertNormalizer (lowercase, accents stripped) + BertPreTokenizer, for the texts used here."""
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    out = []
    for word in text.split():
        cur = ""
        for ch in word:
            if is_punct(ch):
                if cur:
                    out.append(cur)
                out.append(ch)
                cur = ""
            else:
                cur += ch
        if cur:
            out.append(cur)
    return out


def corpus(rng):
    words = ["service", "frontend", "cart", "checkout", "order", "auth", "payment", "redis", "pod",
             "node", "cpu", "memory", "latency", "error", "errors", "rate", "requests", "timeout",
             "connection", "refused", "restarted", "unavailable", "internal", "server", "status",
             "ok", "warn", "info", "the", "and", "of", "to", "is", "high", "low", "normal", "ms",
             "span", "trace", "log", "http", "grpc", "get", "post", "calls", "window", "state"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) for _ in range(400)]


class WordPiece:
    def __init__(self, lines):
        counts = Counter(w for line in lines for w in basic_split(line))
        chars = sorted({c for line in lines + REFERENCE_TEXTS for c in line.lower() if not c.isspace()})
        tokens = SPECIALS + chars + ["##" + c for c in chars if c.isalnum()]
        tokens += [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:WORDS] if w not in tokens]
        tokens += ["##ing", "##ed", "##s", "##er", "##vice"]
        self.vocab = {t: i for i, t in enumerate(dict.fromkeys(tokens))}

    def word(self, w):
        out, start = [], 0
        while start < len(w):
            end = len(w)
            while end > start:
                piece = w[start:end] if start == 0 else "##" + w[start:end]
                if piece in self.vocab:
                    out.append(self.vocab[piece])
                    break
                end -= 1
            if end == start:
                return [self.vocab["[UNK]"]]
            start = end
        return out

    def encode(self, text):
        ids = [i for w in basic_split(text) for i in self.word(w)]
        return [self.vocab["[CLS]"], *ids, self.vocab["[SEP]"]]

    def tokenizer_json(self):
        v = self.vocab
        special = lambda t: {"id": t, "ids": [v[t]], "tokens": [t]}  # noqa: E731
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [{"id": v[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                              "normalized": False, "special": True} for t in SPECIALS],
            "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                           "strip_accents": None, "lowercase": True},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                "special_tokens": {"[CLS]": special("[CLS]"), "[SEP]": special("[SEP]")},
            },
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 100, "vocab": v},
        }


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)
        self.attn_out = nn.Linear(HIDDEN, HIDDEN)
        self.attn_norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.intermediate = nn.Linear(HIDDEN, INTERMEDIATE)
        self.output = nn.Linear(INTERMEDIATE, HIDDEN)
        self.out_norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)

    def forward(self, h, allowed):
        b, s = h.shape[0], h.shape[1]
        d = HIDDEN // HEADS
        split = lambda x: x.view(b, s, HEADS, d).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.query(h)), split(self.key(h)), split(self.value(h))
        scores = torch.matmul(q, k.transpose(2, 3)) * (d ** -0.5)
        scores = scores.masked_fill(~allowed, MASK_MIN)
        ctx = torch.matmul(torch.softmax(scores, -1), v).transpose(1, 2).reshape(b, s, HIDDEN)
        h = self.attn_norm(h + self.attn_out(ctx))
        return self.out_norm(h + self.output(nn.functional.gelu(self.intermediate(h))))


class TinyBert(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.word = nn.Embedding(vocab_size, HIDDEN)
        self.position = nn.Embedding(MAX_POS, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN)
        self.emb_norm = nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.layers = nn.ModuleList([Layer() for _ in range(LAYERS)])

    def forward(self, input_ids, attention_mask, token_type_ids):
        pos = torch.cumsum(torch.ones_like(input_ids), dim=1) - 1
        h = self.emb_norm(self.word(input_ids) + self.position(pos) + self.token_type(token_type_ids))
        allowed = attention_mask[:, None, None, :] > 0
        for layer in self.layers:
            h = layer(h, allowed)
        return h


def l2(v):
    return v / v.norm()


def write_json(path, obj, indent=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=indent, ensure_ascii=False)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "tiny-bert"))
    out = os.path.abspath(ap.parse_args().out)
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)

    torch.manual_seed(SEED)
    tok = WordPiece(corpus(random.Random(SEED)))
    model = TinyBert(len(tok.vocab)).eval()
    gen = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.1 * torch.randn(p.shape, generator=gen))
            elif p.dim() == 2 and name.split(".")[0] in ("word", "position", "token_type"):
                p.copy_(torch.randn(p.shape, generator=gen))
            elif p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=gen) / (p.shape[1] ** 0.5))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))

    dummy = (torch.randint(0, len(tok.vocab), (2, 5)), torch.ones(2, 5, dtype=torch.long), torch.zeros(2, 5, dtype=torch.long))
    axes = {0: "batch_size", 1: "sequence_length"}
    torch.onnx.export(
        model, dummy, os.path.join(out, "onnx", "model.onnx"),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
        opset_version=14, do_constant_folding=True,
    )

    write_json(os.path.join(out, "config.json"), {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": len(tok.vocab), "hidden_size": HIDDEN,
        "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "intermediate_size": INTERMEDIATE,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": MAX_POS, "type_vocab_size": 2, "initializer_range": 0.02,
        "layer_norm_eps": LN_EPS, "pad_token_id": 0, "position_embedding_type": "absolute",
        "_note": "random weights, made by scripts/make-tiny-bert.py; a test fixture, not a model",
    })
    write_json(os.path.join(out, "tokenizer.json"), tok.tokenizer_json())
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": MAX_POS,
        "pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
        "mask_token": "[MASK]", "clean_up_tokenization_spaces": True, "strip_accents": None,
        "tokenize_chinese_chars": True, "padding_side": "right",
    })
    write_json(os.path.join(out, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(os.path.join(out, "1_Pooling", "config.json"), {
        "word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True,
    })

    expected = {"texts": REFERENCE_TEXTS, "ids": [], "mean": [], "cls": []}
    for text in REFERENCE_TEXTS:
        ids = tok.encode(text)
        t = torch.tensor([ids])
        with torch.no_grad():
            h = model(t, torch.ones_like(t), torch.zeros_like(t))[0]
        expected["ids"].append(ids)
        expected["mean"].append([round(float(x), 8) for x in l2(h.mean(0))])
        expected["cls"].append([round(float(x), 8) for x in l2(h[0])])
    write_json(os.path.join(out, "expected.json"), expected, indent=None)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(f"wrote {out}: vocab {len(tok.vocab)}, {size / 1024:.0f} KiB", file=sys.stderr)


if __name__ == "__main__":
    main()
