"""The Hugging Face Trainer callback, with a REAL tiny Trainer on CPU (scripts/tiny_training.py's data and model):
a GPT-2 that memorizes random sequences is stopped during its second epoch, at its first stair; one that learns a
Markov chain over three epochs runs to its end."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.timeout(300)


def test_importing_losscli_never_imports_transformers() -> None:
    code = "import sys, losscli, losscli.cli, losscli.watch; assert 'transformers' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_without_the_extra_the_import_error_names_it() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["transformers"] = None  # as if it were not installed
        try:
            import losscli.integrations.transformers
        except ImportError as exc:
            print(exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'losscli[transformers]'" in out


def test_stop_on_must_be_a_known_condition() -> None:
    from losscli.integrations.transformers import StaircaseCallback

    with pytest.raises(ValueError, match="stop_on"):
        StaircaseCallback(stop_on="smooth")


def train(tmp_path: Path, *, memorize: bool, stop_on: str | None):  # type: ignore[no-untyped-def]
    """Train a tiny model with the real Trainer and the callback; return the trainer, the callback, the warnings."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import tiny_training as tt
    import torch
    from transformers import PrinterCallback, Trainer, TrainingArguments

    torch.set_num_threads(1)  # tiny models: one thread is fastest on shared cores (CI's two)

    from losscli.integrations.transformers import StaircaseCallback

    if memorize:  # as sample_logs/findings/eval-clean-at-epochs: 160 random sequences, constant LR, 5 epochs of 20
        # steps, evaluated at each epoch's end (so that the eval loss is lowest at the first stair, and memorization
        # can be told: a rise that starts at or after the first stepped boundary)
        vocab, length, epochs, batch, lr, schedule, eval_steps = 512, 16, 5, 8, 1e-3, "constant", 20
        train_set, eval_set = tt.random_sequences(160, length, vocab, 1), tt.random_sequences(64, length, vocab, 2)
    else:  # as sample_logs/hf-smooth, smaller: a learnable rule, 3 epochs of 32 steps
        vocab, length, epochs, batch, lr, schedule, eval_steps = 128, 32, 3, 16, 3e-4, "linear", 16
        train_set, eval_set = tt.markov_sequences(512, length, vocab, 1), tt.markov_sequences(128, length, vocab, 2)
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch,
        per_device_eval_batch_size=64,
        learning_rate=lr,
        lr_scheduler_type=schedule,
        logging_steps=1 if memorize else 2,
        eval_strategy="steps",
        eval_steps=eval_steps,
        save_strategy="epoch",
        report_to=["tensorboard"],
        use_cpu=True,
        disable_tqdm=True,
        seed=42,
        data_seed=42,
    )
    model = tt.make_model(vocab, length, n_layer=2, n_embd=64, n_head=4, seed=42)
    trainer = Trainer(model=model, args=args, train_dataset=train_set, eval_dataset=eval_set)
    trainer.remove_callback(PrinterCallback)
    callback = StaircaseCallback(stop_on=stop_on, trainer=trainer)
    trainer.add_callback(callback)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.train()
    from losscli.integrations.transformers import StaircaseWarning

    return trainer, callback, [str(w.message) for w in caught if issubclass(w.category, StaircaseWarning)]


@pytest.mark.slow
@pytest.mark.parametrize("stop_on", ["stepped", "memorization"])
def test_a_memorizing_run_is_stopped_at_its_first_stair(tmp_path: Path, stop_on: str) -> None:
    import losscli

    trainer, callback, told = train(tmp_path, memorize=True, stop_on=stop_on)
    first = next(b for b in callback.analysis.boundaries if b.stepped)
    assert (first.epoch, first.step) == (1, 20)
    stopped = callback.stopped_at
    assert stopped is not None and trainer.state.global_step == stopped
    # stepped: during the second epoch of five; memorization waits for the eval loss to rise clearly too
    assert 20 < stopped < (40 if stop_on == "stepped" else 100)
    print(f"\n{stop_on}: first stepped boundary at step 20, stopped at step {stopped}: {stopped - 20} steps later")
    out = tmp_path / "out"
    assert (out / f"checkpoint-{stopped}" / "trainer_state.json").is_file()  # saved at the stop
    best = callback.analysis.eval
    assert best is not None and callback.keep == best.best_checkpoint
    assert (out / callback.keep).is_dir()
    assert len(told) == 2
    assert told[0].startswith("losscli: the run is stepped: drop")
    assert told[1].startswith(f"losscli: stopping at step {stopped} ({stop_on}): ")
    assert f"keep {callback.keep} (lowest eval loss" in told[1]
    # the score and verdict went through the Trainer's TensorBoard logger (which files them under train/)
    (board,) = losscli.load(out / "runs")
    assert {"train/losscli/score", "train/losscli/verdict"} <= set(board.meta["tags"])
    verdicts = board.scalars[board.scalars["tag"] == "train/losscli/verdict"]
    assert verdicts["value"].iloc[-1] == 1.0 and verdicts["step"].iloc[-1] == stopped


@pytest.mark.slow
def test_a_run_that_learns_runs_to_its_end(tmp_path: Path) -> None:
    trainer, callback, told = train(tmp_path, memorize=False, stop_on="stepped")
    assert trainer.state.global_step == trainer.state.max_steps == 96
    assert callback.stopped_at is None and callback.stepped_at is None
    assert told == []
    assert callback.judged_at == 96 and callback.analysis.verdict == "smooth"
