"""The CLI layer (`jaxd2l.cli`): what `experiments.NAME` modules are built from, kept apart from the
library (whose modules take plain arguments, never a Config).

- `flags`: typed flags from a frozen Config dataclass (`ExperimentConfig`, `DataFlags`,
  `TrainingFlags`), checked once;
- `parse`: the command line to a Config (flags that act only with another, refused);
- `main`: `run_cli(main, Config)`: parse, start the backend, one-line errors, exit codes;
- `record`: `Run`, the metrics.json of a run, written after every epoch;
- `runner`: the one training runner (placement, checkpoints, progress, record).
"""

from jaxd2l.cli.flags import (
    DataFlags,
    ExperimentConfig,
    FlagError,
    SeedFlags,
    TrainingFlags,
    check_config,
    flag,
    when,
)
from jaxd2l.cli.main import enable_compilation_cache, run_cli, start_backend
from jaxd2l.cli.parse import build_parser, parse_config
from jaxd2l.cli.record import (
    Run,
    device_info,
    jsonable,
    output_dir,
    write_csv,
    write_json,
)
from jaxd2l.cli.runner import (
    ClassifierRun,
    finish_classifier,
    fit_and_record,
    run_classifier,
    run_hooks,
    training_setup,
)

__all__ = [
    "ClassifierRun",
    "DataFlags",
    "ExperimentConfig",
    "FlagError",
    "Run",
    "SeedFlags",
    "TrainingFlags",
    "build_parser",
    "check_config",
    "device_info",
    "enable_compilation_cache",
    "finish_classifier",
    "fit_and_record",
    "flag",
    "jsonable",
    "output_dir",
    "parse_config",
    "run_hooks",
    "run_classifier",
    "run_cli",
    "start_backend",
    "training_setup",
    "write_csv",
    "when",
    "write_json",
]

from jaxd2l.checks.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
