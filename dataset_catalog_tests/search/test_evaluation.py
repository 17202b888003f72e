import json
import math

import pytest

from dataset_catalog.search.evaluation import Judgment, JudgmentsError, evaluate, load_judgments, metrics, outcome


def test_metrics_of_known_ranks():
    found = [("huggingface", f"d{i}") for i in range(1, 11)]
    first = outcome(Judgment("q1", frozenset({"d2", "huggingface/d6"})), found)  # ranks 2 and 6
    second = outcome(Judgment("q2", frozenset({"elsewhere/x"})), found)  # not found at all
    third = outcome(Judgment("q3", frozenset({"d1"})), found)  # rank 1
    assert first.ranks == {"d2": 2, "huggingface/d6": 6} and second.ranks == {"elsewhere/x": None}
    m = metrics([first, second, third])
    assert m["queries"] == 3
    assert m["hit@5"] == pytest.approx(2 / 3)
    assert m["recall@5"] == pytest.approx((0.5 + 0 + 1) / 3)
    assert m["mrr@10"] == pytest.approx((0.5 + 0 + 1) / 3)
    ndcg_first = (1 / math.log2(3) + 1 / math.log2(7)) / (1 / math.log2(2) + 1 / math.log2(3))
    assert m["ndcg@10"] == pytest.approx((ndcg_first + 0 + 1) / 3)


def test_evaluate_runs_every_query_through_the_search():
    asked = []

    def search(text):
        asked.append(text)
        return [("kaggle", "a/b"), ("huggingface", "c/d")]

    summary, outcomes = evaluate(
        [Judgment("one", frozenset({"c/d"})), Judgment("two", frozenset({"kaggle/a/b"}))], search
    )
    assert asked == ["one", "two"] and [o.ranks for o in outcomes] == [{"c/d": 2}, {"kaggle/a/b": 1}]
    assert summary["mrr@10"] == pytest.approx(0.75) and summary["hit@5"] == 1.0


def test_judgments_file_format_and_errors(tmp_path):
    path = tmp_path / "j.json"
    path.write_text(
        json.dumps(
            [
                {"query": "a research idea", "keyphrase": "keywords", "relevant": ["pwc/SQuAD"]},
                {"query": "judged dataset not in the corpus", "keyphrase": "x", "relevant": []},
                {"keyphrase": "only keyphrase", "relevant": ["pwc/MNIST"]},
            ]
        )
    )
    assert [j.text for j in load_judgments(path, "query")] == ["a research idea"]
    assert [j.text for j in load_judgments(path, "keyphrase")] == ["keywords", "only keyphrase"]
    path.write_text("{not json")
    with pytest.raises(JudgmentsError, match="not JSON"):
        load_judgments(path, "query")
    with pytest.raises(JudgmentsError, match="Cannot read"):
        load_judgments(tmp_path / "missing.json", "query")
