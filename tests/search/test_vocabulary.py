from search import vocabulary


def test_every_attribute_name_is_spelled_once():
    # Two constants with one value would make two meanings read as one in stored studies.
    names = {k: v for k, v in vars(vocabulary).items() if k.endswith("_ATTR")}
    assert len(names) > 20
    values = list(names.values())
    assert len(set(values)) == len(values), sorted(values)
