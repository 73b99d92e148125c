"""Each run's configuration, read from what is on disk: every source, one configuration per training, the order
that decides when files disagree, damaged and hostile files, and nothing executed or unpickled.

The sample archive (sample_logs/archive, made by the real HF Trainer, facts in /work/wt/reports/samples-hf.md):

    archive/sft-v4/            trainer_state.json, README.md (model card), config.json, all_results.json, ...
      runs/Oct01_09-37-10_vm/  two event files (args and model_config texts in the first)
      wandb/offline-run-*/     run-*.wandb (the config records, the run record's start time)
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, SAMPLE_LOGS, corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from losscli.api import classify, load
from losscli.config.build import run_config
from losscli.config.files import _read_file
from losscli.config.interpret import interpret
from losscli.config.record import KEYS
from losscli.config.resolve import resolve
from losscli.frame import ConfigSource

ARCHIVE = SAMPLE_LOGS / "archive"
CONFIG_DATA = DATA / "config"
LLAMAFACTORY = CONFIG_DATA / "llamafactory-qwen3-lora"
WANDB_YAML = CONFIG_DATA / "wandb-config-yaml" / "wandb" / "run-20240504_075404-o45411z1" / "files" / "config.yaml"
LIGHTNING = CONFIG_DATA / "lightning-hparams"

# What the archive's trainings were (samples-hf.md): model, adapter, data set, learning rate, scheduler, warm-up
# steps, epochs, seed, start date
ARCHIVE_TRUTH = {
    "sft-v1": ("gpt2", "none", "markov-chain-v1", 3e-4, "linear", 10, 3, 11, "2026-07-09"),
    "sft-v2": ("gpt2", "none", "markov-chain-v1", 1e-3, "cosine", 0, 2, 23, "2026-08-06"),
    "sft-v3": ("models/tiny-llama-base", "none", "markov-chain-v2", 3e-4, "linear", 0, 1, 5, "2026-09-03"),
    "sft-v4": ("models/tiny-llama-base", "none", "random-tokens-v1", 1e-3, "constant", 0, 4, 42, "2026-10-01"),
    "sft-v5": (
        "models/tiny-llama-base",
        "lora r=16 alpha=32",
        "random-tokens-v1",
        5e-3,
        "linear",
        0,
        3,
        7,
        "2026-10-22",
    ),
    "sft-v6": ("gpt2", "none", "random-tokens-v2", 3e-4, "cosine", 10, 5, 2026, "2026-11-12"),
}
TRUTH_KEYS = ("model", "adapter", "dataset", "learning_rate", "scheduler", "warmup", "epochs", "seed")


@pytest.fixture(scope="module")
def archive() -> list[Any]:
    return classify([ARCHIVE], jobs=1).results


def training_of(run: str) -> str:
    return run.split("/")[0]


def test_every_archive_run_gets_the_configuration_its_training_had(archive: list[Any]) -> None:
    assert len(archive) == 15  # six trainings: trainer_state, runs/ and (three of them) wandb/
    for result in archive:
        truth = ARCHIVE_TRUTH[training_of(result.run)]
        config = result.config
        assert config is not None and result.warnings == ()
        assert tuple(config.get(k) for k in TRUTH_KEYS) == truth[:8], result.run
        assert config.get("started").startswith(truth[8] + "T")
        assert config.training == str(ARCHIVE / training_of(result.run))
        assert config.sources.keys() == {k for k in KEYS if config.get(k) is not None}


def test_the_formats_of_one_training_agree_on_its_configuration(archive: list[Any]) -> None:
    by_training: dict[str, list[Any]] = {}
    for result in archive:
        by_training.setdefault(training_of(result.run), []).append(result)
    for name, results in by_training.items():
        formats = sorted(r.format for r in results)
        expected = ["tensorboard", "trainer_state", "wandb_run"] if name in ("sft-v1", "sft-v4", "sft-v5") else None
        assert formats == (expected or ["tensorboard", "trainer_state"])
        configs = [dict(r.config.values) for r in results]
        assert all(c == configs[0] for c in configs), name
        assert len({r.config.training for r in results}) == 1


def test_each_key_names_the_file_and_field_it_came_from(archive: list[Any]) -> None:
    v5 = {r.format: r.config for r in archive if training_of(r.run) == "sft-v5"}
    own = v5["wandb_run"].sources
    assert own["adapter"].endswith(".wandb (peft_config.peft_type)")
    assert own["model"].endswith(".wandb (_name_or_path)")  # config.json of transformers 5 has no _name_or_path
    assert own["dataset"] == str(ARCHIVE / "sft-v5" / "README.md") + " (datasets)"
    assert own["started"].endswith(".wandb (start_time)")
    tb = v5["tensorboard"].sources
    assert tb["learning_rate"].endswith("(args/text_summary: learning_rate)")  # the run's own log first
    assert v5["trainer_state"].sources["max_steps"] == str(ARCHIVE / "sft-v5" / "trainer_state.json") + " (max_steps)"
    sft_v2 = next(r.config for r in archive if r.run == "sft-v2")
    assert sft_v2.sources["started"] == "derived: the first wall time in the training's logs"  # no W&B: derived
    assert sft_v2.derived["started"] == sft_v2.get("started") == "2026-08-06T15:41:05+00:00"
    assert sft_v2.derived["peak_learning_rate"] == pytest.approx(1e-3, rel=0.02)
    assert sft_v2.derived["steps_per_epoch"] == 64


def test_training_args_bin_is_never_opened(tmp_path: Path) -> None:
    """sft-v2 has the pickle the Trainer saves; an audit hook sees every file Python opens."""
    assert (ARCHIVE / "sft-v2" / "training_args.bin").is_file()
    opened: list[str] = []
    watching = True

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if watching and event == "open" and args and isinstance(args[0], (str, bytes, Path)):
            opened.append(str(args[0]))

    sys.addaudithook(hook)  # cannot be removed: it stops listening when the test ends
    try:
        results = classify([ARCHIVE / "sft-v2"], jobs=1).results
    finally:
        watching = False
    assert {r.format for r in results} == {"trainer_state", "tensorboard"}
    assert all(r.config.get("seed") == 23 for r in results)
    assert any(p.endswith("README.md") for p in opened)  # the hook saw the files around the run
    assert not [p for p in opened if "training_args" in p]


# --- each source --------------------------------------------------------------------------------------------


def test_tensorboard_hands_over_the_trainer_texts_and_the_hparams_plugin() -> None:
    run = load(ARCHIVE / "sft-v5" / "runs")[0]
    kinds = {c.kind: c for c in run.configs}
    assert set(kinds) == {"hf_training_args", "hf_model_config"}
    assert kinds["hf_training_args"].values["learning_rate"] == 0.005
    assert kinds["hf_model_config"].values["model_type"] == "llama"
    assert kinds["hf_training_args"].where.endswith("(args/text_summary)")
    lightning = load(LIGHTNING / "tb")[0]
    assert [(c.kind, c.values) for c in lightning.configs] == [
        (
            "hparams",
            {
                "batch_size": 8.0,
                "dataset": "random-labels-200",
                "learning_rate": 0.003,
                "max_epochs": 3.0,
                "model_name": "tiny-mlp",
                "seed": 13.0,
            },
        )
    ]


def test_the_start_of_an_event_file_states_what_the_whole_file_does() -> None:
    from losscli.parsers.tensorboard.config import first_wall_time, head_config

    path = next((ARCHIVE / "sft-v4" / "runs").glob("*/events*.0"))
    configs, first, warnings = head_config(path)
    whole = load(path.parent)[0].configs
    assert [(c.kind, c.values) for c in configs] == [(c.kind, c.values) for c in whole] and warnings == []
    assert first == first_wall_time(path) and int(first) == int(path.name.split(".")[3])  # the name's timestamp


def test_wandb_hands_over_its_config_records_and_start_time() -> None:
    from losscli.parsers.wandb.run_records import head_config

    run = load(ARCHIVE / "sft-v4" / "wandb")[0]
    kinds = {c.kind: c.values for c in run.configs}
    assert kinds["wandb_config"]["_name_or_path"] == "models/tiny-llama-base"
    assert kinds["wandb_config"]["per_device_train_batch_size"] == 8
    tb_start = int(next((ARCHIVE / "sft-v4" / "runs").glob("*/events*.0")).name.split(".")[3])
    assert abs(kinds["wandb_run"]["start_time"] - tb_start) < 2  # the run record's start, as the event file's name
    log = next((ARCHIVE / "sft-v4" / "wandb").glob("*/run-*.wandb"))
    assert [(c.kind, c.values) for c in head_config(log)] == [(c.kind, c.values) for c in run.configs]


def test_a_real_wandb_config_yaml() -> None:
    sources, warning = _read_file(str(WANDB_YAML), "wandb_config", 1, 1)
    config, disagreement = resolve([(0, s) for s in sources], derived={}, training=None, label="x")
    assert warning is None and disagreement is None
    assert dict(config.values) == {
        "model": "NlpHUST/gpt-neo-vi-small",
        "adapter": "none",  # the Trainer's W&B config of a PEFT model has a peft_config
        "dataset": None,
        "learning_rate": 1e-05,
        "scheduler": "linear",
        "warmup": 0,
        "epochs": 250,
        "max_steps": None,
        "batch_size": 42,
        "seed": 42,
        "started": "2024-05-04T07:54:04+00:00",  # _wandb.start_time; the run folder is run-20240504_075404-...
        "train_samples": None,
    }


def test_a_real_llamafactory_output_folder() -> None:
    [result] = classify([LLAMAFACTORY], jobs=1).results
    config = result.config
    assert dict(config.values) == {
        "model": "/dev/shm/Qwen/Qwen3-14B",
        "adapter": "lora r=8 alpha=16",
        "dataset": "tcm,mdk,NLI",
        "learning_rate": 5e-05,
        "scheduler": "cosine",
        "warmup": 0,
        "epochs": 3,
        "max_steps": 768,
        "batch_size": 112,  # the card's total: 2 per device x 8 accumulation x 7 GPUs
        "seed": 42,  # only the model card states it
        "started": None,
        "train_samples": None,
    }
    assert config.sources["batch_size"].endswith("README.md (Training hyperparameters: total_train_batch_size)")
    assert config.sources["model"].endswith("training_args.yaml (model_name_or_path)")
    assert not any("disagree" in w for w in result.warnings)  # llamaboard's top.model_name is a catalogue name


def test_lightning_hparams_yaml_and_hparams_plugin_agree() -> None:
    results = classify([LIGHTNING], jobs=1).results
    assert sorted(r.format for r in results) == ["lightning_csv", "tensorboard"]
    csv_run, tb_run = sorted(results, key=lambda r: r.format)
    expected = {"model": "tiny-mlp", "dataset": "random-labels-200", "learning_rate": 0.003, "epochs": 3}
    for result in results:
        assert {k: result.config.get(k) for k in expected} == expected
        assert result.config.get("seed") == 13 and result.config.get("batch_size") == 8
    assert csv_run.config.sources["model"].endswith("csv/version_0/hparams.yaml (model_name)")
    assert "(_hparams_/session_start_info: model_name)" in tb_run.config.sources["model"]
    assert tb_run.config.get("started") is not None and csv_run.config.get("started") is None  # no wall times


def test_mlflow_params_are_text_read_back() -> None:
    """MLflow keeps every param as `str()` of it, as the Trainer's MLflowCallback logs them."""
    params = {
        "learning_rate": "3e-4",
        "lr_scheduler_type": "SchedulerType.COSINE",
        "warmup_steps": "0",
        "warmup_ratio": "0.1",
        "num_train_epochs": "3.0",
        "max_steps": "-1",
        "per_device_train_batch_size": "4",
        "gradient_accumulation_steps": "8",
        "seed": "42",
        "report_to": "['mlflow']",
        "_name_or_path": "None",
        "model_type": "llama",
        "architectures": "['LlamaForCausalLM']",
        "resume_from_checkpoint": "None",
    }
    found = {s.fact: s.value for s in interpret(ConfigSource("mlflow_params", "params", params))}
    assert found == {
        "learning_rate": 3e-4,
        "scheduler": "cosine",
        "warmup_steps": 0,
        "warmup_ratio": 0.1,
        "epochs": 3,
        "per_device_batch_size": 4,
        "accumulation": 8,
        "seed": 42,
        "architecture": "llama",
    }
    config, _ = resolve([(0, ConfigSource("mlflow_params", "params", params))], derived={}, training=None, label="x")
    assert config.get("warmup") is None  # a ratio of steps nobody planned: unknown, not a guess
    assert config.get("batch_size") == 32 and config.get("model") == "llama"


def test_the_params_the_real_mlflow_client_wrote() -> None:
    run = next(p for p in (SAMPLE_LOGS / "mlflow-file" / "mlruns").glob("*/*") if (p / "tags").is_dir())
    params = {p.name: p.read_text() for p in (run / "params").iterdir()}
    config, _ = resolve([(0, ConfigSource("mlflow_params", str(run), params))], derived={}, training=None, label="x")
    assert config.get("model") == "tiny-gpt2"
    assert config.get("scheduler") in ("constant", "linear") and config.get("seed") == 42
    assert isinstance(config.get("learning_rate"), float) and config.get("epochs") == 2


# --- files that disagree, are missing, damaged or hostile ---------------------------------------------------


def test_files_that_disagree_follow_the_order_and_warn_once(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from losscli.cli import app

    folder = shutil.copytree(ARCHIVE / "sft-v4", tmp_path / "sft-v4", symlinks=True)
    card = folder / "README.md"
    card.write_text(card.read_text().replace("- learning_rate: 0.001", "- learning_rate: 0.01"))
    results = classify([folder], jobs=1).results
    assert len(results) == 3
    for result in results:
        assert result.config.get("learning_rate") == 0.001  # the logs the trainer wrote win over the card
        [warning] = result.warnings
        assert "disagree on learning_rate (0.001 in " in warning and f"0.01 in {card} " in warning
    out = CliRunner().invoke(app, ["classify", str(folder), "-f", "jsonl", "-j", "1"])
    assert out.exit_code == 0 and out.stderr.count("disagree on learning_rate") == 1  # three runs, said once


def test_absent_files_leave_keys_null_without_a_warning() -> None:
    [result] = classify([corpus("ts-kgllm")], jobs=1).results  # a trainer_state.json alone
    assert result.verdict == "smooth" and result.warnings == ()
    config = result.config.to_record()
    assert config["model"] is None and config["dataset"] is None and config["started"] is None
    assert config["epochs"] == 5 and config["sources"]["epochs"].endswith("trainer_state.json (num_train_epochs)")
    assert config["max_steps"] == 120 and config["batch_size"] == 8  # per device; accumulation not stated
    assert "accumulation not stated (1)" in config["sources"]["batch_size"]


@pytest.mark.parametrize(
    ("name", "damage", "message"),
    [
        ("adapter_config.json", '{"peft_type": "LORA", "r": 1', "not valid JSON"),
        ("README.md", "---\nbase_model: [unclosed\n---\n", "not valid front matter"),
        ("training_args.yaml", "- a list\n- not a mapping\n", "holds list, not a mapping"),
        ("hparams.yaml", "\xff\xfe", "not text"),
    ],
)
def test_a_malformed_file_is_one_warning_and_the_run_is_still_judged(
    tmp_path: Path, name: str, damage: str, message: str
) -> None:
    folder = shutil.copytree(ARCHIVE / "sft-v3", tmp_path / "run", ignore=shutil.ignore_patterns("runs"))
    if name == "hparams.yaml":  # Lightning's file is read beside a run outside a Trainer output folder
        folder = shutil.copytree(LIGHTNING / "csv" / "version_0", tmp_path / "lightning")
        (folder / name).write_bytes(damage.encode("latin-1"))
    else:
        (folder / name).write_text(damage)
    [result] = classify([folder], jobs=1).results
    assert result.verdict in ("inconclusive", "smooth") and result.analysis is not None
    [warning] = [w for w in result.warnings if str(folder / name) in w]
    assert message in warning and warning.endswith("the configuration it states was not read")
    if name == "adapter_config.json":
        assert result.config.get("adapter") is None  # the broken file's fact is unknown, not guessed
        assert result.config.get("learning_rate") == 3e-4  # the others still read


def test_a_run_that_cannot_be_read_still_gets_the_configuration_around_it(tmp_path: Path) -> None:
    folder = shutil.copytree(ARCHIVE / "sft-v6", tmp_path / "sft-v6", ignore=shutil.ignore_patterns("runs", "check*"))
    (folder / "trainer_state.json").write_text("not json")
    [result] = classify([folder], jobs=1).results
    assert result.verdict == "error"
    assert result.config.get("model") == "gpt2" and result.config.get("learning_rate") == 3e-4
    assert result.config.get("epochs") == 5  # from the model card, the state file being unreadable


def test_yaml_is_only_read_safely(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    folder = shutil.copytree(LIGHTNING / "csv" / "version_0", tmp_path / "version_0")
    (folder / "hparams.yaml").write_text(f'x: !!python/object/apply:os.system ["touch {marker}"]\n')
    [result] = classify([folder], jobs=1).results
    assert not marker.exists()
    assert any("YAML with a Python object tag (only plain values are read)" in w for w in result.warnings)
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6)
    )
    (folder / "hparams.yaml").write_text(laughs)  # ten million values by aliases, in 500 bytes
    [result] = classify([folder], jobs=1).results
    assert any("holds more than 100000 values" in w for w in result.warnings)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(["README.md", "adapter_config.json", "config.json", "all_results.json"]),
    cut=st.floats(0, 1),
    junk=st.binary(max_size=40),
)
def test_damaged_configuration_files_never_stop_a_run(
    tmp_path_factory: Any, name: str, cut: float, junk: bytes
) -> None:
    folder = tmp_path_factory.mktemp("case") / "sft-v5"
    shutil.copytree(ARCHIVE / "sft-v5", folder, ignore=shutil.ignore_patterns("runs", "wandb", "check*"))
    source = ARCHIVE / ("sft-v4" if name == "config.json" else "sft-v5") / name
    data = source.read_bytes()
    (folder / name).write_bytes(data[: int(len(data) * cut)] + junk)
    # (damage can make a loose file look like an export: only the Trainer's run is this test's)
    [result] = [r for r in classify([folder], jobs=1).results if r.path == str(folder)]
    assert result.verdict == "smooth" and result.config is not None
    assert set(result.config.to_record()) >= set(KEYS)
    about = [w for w in result.warnings if name in w]
    assert len(about) <= 1 and all(w.startswith(str(folder / name)) for w in about)


def test_the_json_format_adds_everything_read_with_secrets_hidden(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from losscli.cli import app

    out = CliRunner().invoke(app, ["classify", str(ARCHIVE / "sft-v5" / "runs"), "-f", "json", "-j", "1"])
    [record] = json.loads(out.stdout)
    raw = record["config"]["raw"]
    args = next(v for where, v in raw.items() if where.endswith("(args/text_summary)"))
    assert args["learning_rate"] == 0.005 and args["hub_token"] == "<hidden>"
    assert any(where.endswith("README.md") for where in raw)
    jsonl = CliRunner().invoke(app, ["classify", str(ARCHIVE / "sft-v5" / "runs"), "-f", "jsonl", "-j", "1"])
    assert "raw" not in json.loads(jsonl.stdout)["config"]


def test_csv_has_flat_config_columns() -> None:
    import csv
    import io

    from click.testing import CliRunner

    from losscli.cli import app

    out = CliRunner().invoke(app, ["classify", str(ARCHIVE / "sft-v6"), "-f", "csv", "-j", "1"])
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 2
    for row in rows:
        assert row["config.model"] == "gpt2" and row["config.learning_rate"] == "0.0003"
        assert row["config.started"] == "2026-11-12T14:05:08+00:00" and row["config.warmup"] == "10"
        assert "learning_rate: " in row["config.sources"]


def test_parallel_workers_read_the_same_configuration() -> None:
    one = {r.run: dict(r.config.values) for r in classify([ARCHIVE], jobs=1).results}
    two = {r.run: dict(r.config.values) for r in classify([ARCHIVE], jobs=2).results}
    assert one == two


def test_each_file_is_read_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from losscli.config import files

    files._read_file.cache_clear()
    runs = load(ARCHIVE / "sft-v1")
    for run in runs:
        run_config(run)
    info = files._read_file.cache_info()
    assert info.misses == len({"README.md", "config.json", "all_results.json", "train_results.json",
                               "trainer_state.json"})  # fmt: skip
    assert info.hits > 0


def test_a_training_still_running_is_found_from_its_runs_folder(tmp_path: Path) -> None:
    """No trainer_state.json, model card or results yet: only checkpoints beside runs/ (the Trainer saves its state
    in each checkpoint)."""
    folder = shutil.copytree(
        ARCHIVE / "sft-v4",
        tmp_path / "sft-v4",
        ignore=shutil.ignore_patterns("wandb", "*.json", "README.md"),
    )
    checkpoint = ARCHIVE / "sft-v4" / "checkpoint-40"
    for name in ("trainer_state.json", "config.json"):
        shutil.copy(checkpoint / name, folder / "checkpoint-40" / name)
    results = {r.format: r for r in classify([folder], jobs=1).results}
    assert set(results) == {"trainer_state", "tensorboard"}
    tb = results["tensorboard"].config
    assert tb.training == str(folder)
    assert tb.get("max_steps") == 80 and tb.sources["max_steps"].endswith(
        "checkpoint-40/trainer_state.json (max_steps)"
    )
    assert tb.get("adapter") == "none" and tb.get("model") == "llama"  # no card: the family, from config.json


def test_show_gives_each_run_its_configuration_without_judging() -> None:
    from click.testing import CliRunner

    from losscli.cli import app

    out = CliRunner().invoke(app, ["show", str(ARCHIVE / "sft-v5" / "wandb"), "-f", "jsonl"])
    [item] = [json.loads(line) for line in out.stdout.splitlines()]
    assert item["config"]["adapter"] == "lora r=16 alpha=32" and item["config"]["seed"] == 7
    assert "verdict" not in item
