"""Weights & Biases logs, read without the wandb package, in the order the data flows:

- `run_folder`: local run folders (`wandb/run-*/`, `wandb/offline-run-*/`), read from their transaction log;
- `transaction_log`: the `.wandb` file's block log and the few protobuf records needed from it;
- `exports`: files saved from W&B (chart CSVs and `run.history()` tables), how they are recognised and loaded;
- `chart`: a chart CSV split into its runs;
- `history`: one history table (a run folder's or an export's) mapped onto the frame, the same way for both.
"""
