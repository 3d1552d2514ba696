"""The persistent chromadb + BM25 index: built once, reused, never chromadb's default embedder."""
from __future__ import annotations

from p2m.tools.retrieval.dataset_index import DatasetIndex, MiniLMEmbedding, catalog_fingerprint, index_text
from p2m.tools.retrieval.catalog import CatalogEntry


def entries() -> list[CatalogEntry]:
    return [
        CatalogEntry("imdb", "Large movie review dataset for binary sentiment classification."),
        CatalogEntry("squad", "Stanford question answering: answer spans in Wikipedia paragraphs."),
        CatalogEntry("sms_spam", "SMS messages labelled as spam or ham (legitimate)."),
        CatalogEntry("conll2003", "Named entity recognition: persons, locations, organisations.",
                     extra={"evaluation_metadata": [{"task": "token-classification",
                                                     "task_id": "entity_extraction"}]}),
    ]


def test_index_is_built_once_and_reused(tmp_path):
    first = DatasetIndex(entries(), root=tmp_path, progress=False)
    assert first.built_now and first.path.parent == tmp_path
    again = DatasetIndex(entries(), root=tmp_path, progress=False)
    assert not again.built_now and again.path == first.path


def test_changed_catalog_gets_a_new_index(tmp_path):
    changed = entries()
    changed[0] = CatalogEntry("imdb", "Movie reviews, now with a new description.")
    assert catalog_fingerprint(changed) != catalog_fingerprint(entries())


def test_each_retriever_finds_the_obvious_dataset(tmp_path):
    index = DatasetIndex(entries(), root=tmp_path, progress=False)
    for query, name in (("detect spam text messages", "sms_spam"),
                        ("extract answers to questions from wikipedia", "squad")):
        for ranking in (index.bm25(query, 4), index.dense(query, 4), index.hybrid(query, 4)):
            assert entries()[ranking[0]].name == name


def test_task_tags_and_name_words_are_indexed():
    text = index_text(entries()[3])
    assert "entity extraction" in text and "token classification" in text


def test_embedding_function_is_local_minilm():
    ef = MiniLMEmbedding()
    vectors = ef(["a sentence", "another one"])
    assert len(vectors) == 2 and len(vectors[0]) == 384
    assert MiniLMEmbedding.name() == "p2m-minilm"


def test_stemming_matches_word_forms(tmp_path):
    index = DatasetIndex(entries() + [CatalogEntry("snli", "Sentence pairs labelled with entailment, "
                                                   "contradiction or neutral.")],
                         root=tmp_path, progress=False)
    assert index.entries[index.bm25("does the premise entail or contradict it", 3)[0]].name == "snli"


def test_heads_are_indexed_beside_full_texts(tmp_path):
    index = DatasetIndex(entries(), root=tmp_path, progress=False)
    assert index._heads.count() == index._collection.count() == len(entries())
    assert index.heads[0].startswith("imdb") and "sentiment" in index.heads[0]


def test_datasets_in_another_language_rank_below_english_ones(tmp_path):
    catalog = [CatalogEntry("reviews_ur", "Urdu movie reviews for sentiment classification."),
               CatalogEntry("movie_reviews", "English movie reviews with sentiment labels.")]
    index = DatasetIndex(catalog, root=tmp_path, progress=False)
    assert catalog[index.hybrid("movie review sentiment classification", 2)[0]].name == "movie_reviews"
    # ... unless the task asks for that language.
    assert catalog[index.hybrid("Urdu movie review sentiment", 2)[0]].name == "reviews_ur"


def test_task_verbs_meet_the_nouns_cards_use(tmp_path):
    from p2m.tools.retrieval.dataset_index import TaskStemmer

    stems = TaskStemmer().stemWords(["classify", "classification", "identify", "identification",
                                     "recognize", "recognition", "questions", "question"])
    assert stems[0] == stems[1] and stems[2] == stems[3] and stems[4] == stems[5]
    assert stems[6] == stems[7] and stems[0] != stems[2]
    index = DatasetIndex(entries() + [CatalogEntry("trec", "Question classification dataset.")],
                         root=tmp_path, progress=False)
    assert index.entries[index.bm25("classify each question", 1)[0]].name == "trec"


def test_camel_case_names_meet_plain_words(tmp_path):
    from p2m.tools.retrieval.dataset_index import split_camel_case

    assert split_camel_case("a text-toSQL set") == "a text-toSQL to SQL set"
    assert split_camel_case("plain words, COVID-19") == "plain words, COVID-19"
    index = DatasetIndex(entries() + [CatalogEntry("spider", "A cross-domain text-toSQL dataset.")],
                         root=tmp_path, progress=False)
    assert index.entries[index.bm25("write the SQL for a question", 1)[0]].name == "spider"


def test_demonstration_inputs_pull_the_dense_query_toward_their_kind_of_text(tmp_path):
    catalog = [CatalogEntry("tweet_sentiment", "Tweets about airlines labelled by sentiment."),
               CatalogEntry("review_sentiment", "Product reviews labelled by sentiment.")]
    index = DatasetIndex(catalog, root=tmp_path, progress=False)
    query = "Is the text positive or negative?"
    tweets = ["@united lost my bag again #fail", "@delta thanks for the upgrade! #travel"]
    reviews = ["This blender broke after two weeks, do not buy.", "Great battery life, five stars."]
    for inputs, name in ((tweets, "tweet_sentiment"), (reviews, "review_sentiment")):
        top = index.hybrid(query, 2, inputs=inputs, input_weight=1.0)[0]
        assert catalog[top].name == name
    assert index.hybrid(query, 2, inputs=tweets, input_weight=0.0) == index.hybrid(query, 2)


def test_another_embedder_gets_its_own_index_and_embeds_the_queries(tmp_path):
    import numpy as np

    from p2m.tools.encoders.embed import embed

    calls = []

    def counting(texts):
        calls.append(len(texts))
        return embed(texts)

    index = DatasetIndex(entries(), root=tmp_path, progress=False, embedder=counting,
                         embedder_name="counting")
    assert index.path.name.startswith("datasets-counting-") and sum(calls) == 2 * len(entries())
    assert entries()[index.dense("spam text messages", 1)[0]].name == "sms_spam"
    assert calls[-1] == 1 and np.allclose(index.embeddings([0])[0], embed([index.texts[0]])[0],
                                          atol=1e-5)
    assert DatasetIndex(entries(), root=tmp_path, progress=False).path != index.path
