"""drf-spectacular post-processing of the OpenAPI document."""


def blank_strings_any_of(result: dict, generator, request, public) -> dict:
    """`anyOf`, not `oneOf`, for a blank-allowed string with a pattern.

    drf-spectacular writes `oneOf: [{string, pattern, maxLength}, {string, maxLength: 0}]`; the empty
    string fits both branches, which `oneOf` forbids, so the document would call "" invalid.
    """

    def walk(node):
        if isinstance(node, dict):
            branches = node.get("oneOf")
            if (
                isinstance(branches, list)
                and len(branches) == 2
                and branches[1] == {"type": "string", "maxLength": 0}
                and branches[0].get("type") == "string"
            ):
                node["anyOf"] = node.pop("oneOf")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
