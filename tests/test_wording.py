"""The words the platform's messages share: a few examples of many, and counted nouns."""
from crossdock.wording import counted, listed


def test_a_list_names_the_first_few_and_counts_the_rest():
    assert listed(["a", "b", "c"], 5) == "a, b, c"
    assert listed(["a", "b", "c"], 2) == "a, b and 1 more"
    assert listed([], 3) == ""


def test_a_count_is_whole_with_thousands_and_plural_unless_one():
    assert counted(1, "unit") == "1 unit"
    assert counted(1.0, "day") == "1 day"
    assert counted(0, "unit") == "0 units"
    assert counted(1234.4, "unit") == "1,234 units"
    assert counted(2, "day") == "2 days"
