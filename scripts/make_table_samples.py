"""Write tests/data/tables/: loss tables as hand-written training loops save them, for issue 14's table reader.

A plain torch loop (no Trainer) trains the tiny GPT-2 of scripts/tiny_training.py for 4 epochs on 160 uniform-random
sequences (memorisation: the loss steps down at each epoch boundary), batch 8, constant LR 1e-3, 20 steps an epoch,
and evaluates on 64 held-out sequences at the last step of each epoch. One row per step; the eval value sits on the
row of the step it was measured at and is empty (CSV/TSV), null (JSONL) or NaN (Parquet) elsewhere. `epoch` is the
1-based number of the epoch the step belongs to, as such loops usually write it.

  loss_table.csv       step,epoch,loss,eval_loss,lr          (csv.DictWriter; eval_loss empty between evals)
  loss_table.tsv       the same columns, tab-separated         (pandas DataFrame.to_csv(sep="\\t"))
  loss_table.jsonl     one JSON object a step, the same keys   (json.dumps; "eval_loss": null between evals)
  loss_table.parquet   the same columns                        (pandas DataFrame.to_parquet, pyarrow)
  aliases.csv          global_step,epoch,train_loss,val_loss,learning_rate: other usual names
  unusual_columns.csv  iter,pass,objective,holdout_objective,eta: names no reader can guess (`pass` 0-based),
                       for --step-col/--loss-col/--epoch-col/--eval-col

Run from the repository root in the generation environment (torch 2.13.0 CPU, pandas, pyarrow):

    /work/genvenv/bin/python scripts/make_table_samples.py

Versions used for the committed files: python 3.11.7, torch 2.13.0+cpu, transformers 5.24.0, pandas 3.1.1,
pyarrow 25.0.1. Runtime: a few seconds.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "tables")
COLUMNS = ("step", "epoch", "loss", "eval_loss", "lr")


def train() -> list[dict[str, float | int | None]]:
    """One row per optimizer step of a tiny memorising run; eval_loss on the last step of each epoch."""
    import tiny_training as tt
    import torch

    vocab, seq_len, n, batch_size, epochs, lr = 512, 16, 160, 8, 4, 1e-3
    train_tokens = tt.random_sequences(n, seq_len, vocab, seed=21).tokens
    held_out = tt.random_sequences(64, seq_len, vocab, seed=22).tokens
    model = tt.make_model(vocab, seq_len, n_layer=2, n_embd=64, n_head=4, seed=21)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    generator = torch.Generator().manual_seed(21)
    rows: list[dict[str, float | int | None]] = []
    step = 0
    for epoch in range(1, epochs + 1):
        order = torch.randperm(n, generator=generator)
        for i in range(0, n, batch_size):
            model.train()
            batch = train_tokens[order[i : i + batch_size]]
            loss = model(input_ids=batch, labels=batch).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            row: dict[str, float | int | None] = {
                "step": step,
                "epoch": epoch,
                "loss": loss.item(),
                "eval_loss": None,
                "lr": optimizer.param_groups[0]["lr"],
            }
            if i + batch_size >= n:
                model.eval()
                with torch.no_grad():
                    row["eval_loss"] = model(input_ids=held_out, labels=held_out).loss.item()
            rows.append(row)
    return rows


def write_csv(path: str, rows: list[dict[str, float | int | None]], names: dict[str, str]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[names[c] for c in COLUMNS])
        writer.writeheader()
        for row in rows:
            writer.writerow({names[c]: ("" if row[c] is None else row[c]) for c in COLUMNS})


def main() -> None:
    import pandas as pd

    rows = train()
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    same = {c: c for c in COLUMNS}
    write_csv(os.path.join(OUT, "loss_table.csv"), rows, same)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame.to_csv(os.path.join(OUT, "loss_table.tsv"), sep="\t", index=False)
    with open(os.path.join(OUT, "loss_table.jsonl"), "w") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    frame.to_parquet(os.path.join(OUT, "loss_table.parquet"), index=False)
    write_csv(
        os.path.join(OUT, "aliases.csv"),
        rows,
        {"step": "global_step", "epoch": "epoch", "loss": "train_loss", "eval_loss": "val_loss", "lr": "learning_rate"},
    )
    unusual = [{**row, "epoch": int(row["epoch"] or 0) - 1} for row in rows]  # `pass` counts from 0
    write_csv(
        os.path.join(OUT, "unusual_columns.csv"),
        unusual,
        {"step": "iter", "epoch": "pass", "loss": "objective", "eval_loss": "holdout_objective", "lr": "eta"},
    )
    by_epoch = {e: [float(r["loss"] or math.nan) for r in rows if r["epoch"] == e] for e in range(1, 5)}
    print("epoch mean train loss:", {e: round(sum(v) / len(v), 3) for e, v in by_epoch.items()})
    print("eval:", [round(float(r["eval_loss"]), 3) for r in rows if r["eval_loss"] is not None])
    for name in sorted(os.listdir(OUT)):
        print(f"tests/data/tables/{name}: {os.path.getsize(os.path.join(OUT, name)):,} bytes")


if __name__ == "__main__":
    main()
