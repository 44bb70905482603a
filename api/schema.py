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


def unsupported_media_type_documented(result: dict, generator, request, public) -> dict:
    """Document 415 on every operation that takes a body.

    DRF's parser negotiation answers 415 (our JSON error body) to any body whose Content-Type no
    parser of the view accepts, including none at all; the per-view decorators cannot know that.
    """
    answer = {
        "description": "The request body's content type is not one this operation accepts.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["responses"].setdefault("415", answer)
    return result
