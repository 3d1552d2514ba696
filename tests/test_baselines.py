"""The demonstrations-only baseline of each family: fitted from demonstrations, saved as JSON,
and run by predict_for like a trained student."""
from p2m.core.schemas import Example, TaskSpec
from p2m.tools.families.baselines import is_baseline, save_baseline
from p2m.tools.families import fit_baseline, predict_baseline
from p2m.runfolder.rundir import has_model
from p2m.tools.families import predict_for


def rows(pairs):
    return [Example(input=i, output=o, source={"kind": "user"}) for i, o in pairs]


def test_classification_baseline_learns_from_demonstrations_and_runs_from_disk(tmp_path):
    task = TaskSpec(instruction="Topic", labels=["sports", "cooking"])
    demos = rows([("the striker scored twice in the final", "sports"),
                  ("the goalkeeper saved a penalty", "sports"),
                  ("simmer the sauce and add basil", "cooking"),
                  ("bake the bread for forty minutes", "cooking")])
    spec = fit_baseline(task, demos)
    assert spec["classes"] == ["cooking", "sports"]
    texts = ["the team won the match", "whisk the eggs with sugar"]
    assert predict_baseline(spec, texts) == ["sports", "cooking"]
    model = save_baseline(spec, tmp_path / "model")
    assert is_baseline(model) and has_model(model) and not (model / "config.json").exists()
    assert predict_for(task, model, texts) == ["sports", "cooking"]


def test_baselines_of_the_other_families():
    ner = TaskSpec(instruction="Find people", task_type="ner", labels=["person"])
    spec = fit_baseline(ner, rows([("Ada Lovelace wrote notes", "person: Ada Lovelace")]))
    assert predict_baseline(spec, ["I met Ada Lovelace today", "nobody here"]) == ["person: Ada Lovelace", "none"]
    qa = TaskSpec(instruction="Answer from the passage", task_type="extractive_qa")
    out = predict_baseline(fit_baseline(qa, rows([("Context: x\nQuestion: y", "x")])),
                           ["Context: Paris is in France. The Alps are high.\nQuestion: Where is Paris?"])
    assert "France" in out[0] and "Alps" not in out[0]
    t2t = TaskSpec(instruction="Translate", task_type="text2text")
    spec = fit_baseline(t2t, rows([("good morning", "guten Morgen"), ("thank you very much", "danke schön")]))
    assert predict_baseline(spec, ["good morning to you"]) == ["guten Morgen"]
