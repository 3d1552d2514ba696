"""p2m: a plain-language task description in, a small trained and evaluated model out."""
import os as _os

# Offline-friendly, CPU-friendly defaults, set before torch or the HF libraries load.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP threads starve the other core
_os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
_os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
_os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # chromadb
_os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"

# The task families register themselves (their task types, default metrics and aliases), so
# that a TaskSpec can name any of them whatever was imported first.
from p2m.tools import families as _families  # noqa: E402,F401
