"""Weights & Biases logs, read without the wandb package, in the order the data flows:

- `run_folder`: local run folders (`wandb/run-*/`, `wandb/offline-run-*/`), which folders and files are runs;
- `run_records`: a run folder's transaction log folded into a run;
- `transaction_log`: the `.wandb` file's block log and the few protobuf records needed from it;
- `exports`: files saved from W&B (chart CSVs and `run.history()` tables) and how they are recognised;
- `export_tables`: such a file loaded into a table (CSV, JSON, JSONL, Parquet), a wide one for the columns read;
- `chart`: a chart CSV split into its runs;
- `history`: one history table (a run folder's or an export's) mapped onto the frame, the same way for both.
"""
