from ml import wording


def test_a_model_output_is_never_shown_as_100_or_0_percent():
    assert wording.format_probability(0.996) == "> 99 %"
    assert wording.format_probability(1.0) == "> 99 %"
    assert wording.format_probability(0.004) == "< 1 %"
    assert wording.format_probability(0.0) == "< 1 %"


def test_ordinary_probabilities_are_whole_percent():
    assert wording.format_probability(0.512) == "51 %"
    assert wording.format_probability(0.99) == "99 %"
    assert wording.format_probability(0.01) == "1 %"


def test_the_unsure_reason_names_the_two_most_likely_classes_in_plain_words():
    reason = wording.unsure_reason({"glioma": 0.51, "meningioma": 0.40, "notumor": 0.05, "pituitary": 0.04})
    assert reason.startswith("The model is unsure: glioma 51 %, meningioma 40 %.")
