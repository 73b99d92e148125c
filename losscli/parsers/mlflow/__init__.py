"""MLflow tracking stores, read without the mlflow package, in the order the data flows:

- `file_store`: the file store (`mlruns/<experiment>/<run>/` with `metrics/`, `params/`, `tags/`, `meta.yaml`),
  one run per run folder;
- `sqlite_store`: the SQLite backend (`mlflow.db`, MLflow 3's default), opened read-only, one run per row of
  its `runs` table;
- `run_data`: what both stores hold for one run, made into a `Run` the same way for both.
"""
