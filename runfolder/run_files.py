"""The name of every file a run folder holds, in one place (`p2m.runfolder.rundir` reads and writes them;
its docstring draws the layout). A leaf module: the data store and the tools import it without
importing the run folder's code."""

# Written once, at creation or at the end
TASK = "task.json"
CONFIG = "config.json"
REPORT = "report.json"
CHAT = "chat.json"  # the conversation that shaped the task, and its revisions
CHAT_CONFIG = "chat_config.json"  # `p2m chat`'s settings, before the run exists

# Rewritten by the tools, step by step
CHOICE = "model_choice.json"  # choose_model: the student's pretrained model
TRAIN = "train.json"  # train: the last training job (its path, folds, loss curve)
METRICS = "metrics.json"  # evaluate: every gold-scored iteration, the baselines, the published model
SELECTION = "selection.json"  # evaluate: the best student and the published model
TEACHER = "teacher.json"  # evaluate: the teacher's answers on the gold rows (cached per test split)
FAILURES = "failures.json"  # evaluate: validation rows the student got wrong (the generator sees them)
TEST_FAILURES = "test_failures.json"  # evaluate: gold rows it got wrong (for people only)
UNLABELLED = "unlabelled.json"  # label_inputs: how far labelling has gone
CALIBRATION = "calibration.json"  # `p2m calibrate`: the texts it labelled

# Append-only, and the engines' own
DATA = "data"
EXAMPLES = "examples.jsonl"  # under data/: every row with its split and provenance
DROPPED = "dropped.jsonl"  # under data/: rows dropped, with why
TRACE = "trace.jsonl"
CHECKPOINTS = "checkpoints.sqlite"  # LangGraph's checkpoints
LLM_CACHE = "llm_cache.sqlite"  # the LLM reply cache
LOCK = "run.lock"

# Folders
MODEL = "model"  # the published model
STEPS = "steps"  # steps/K/: the files after step K (`p2m fork`)
STEP = "step.json"  # in steps/K/: the step and the append-only files' lengths
CASCADE = "cascade.json"  # in a model folder: the cascade's fitted threshold
