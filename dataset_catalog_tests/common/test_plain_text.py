from dataset_catalog.common.plain_text import markup_to_text, plain_summary

CARD = """---
license: mit
language: [de]
---
# Dataset Card for Foo

## Dataset Description

- **Homepage:** [More Information Needed]
- **Paper:** [The paper](https://arxiv.org/abs/1234)

### Dataset Summary

Foo is a *German* speech corpus with <b>1,000</b> hours &amp; more. <img src=x onerror=alert(1)>

```python
from datasets import load_dataset
ds = load_dataset("foo")
```

| split | rows |
|---|---|
| train | 10 |

<script>alert("owned")</script>
[More Information Needed]
"""


def test_markdown_html_code_and_boilerplate_are_stripped_and_prose_kept():
    text = markup_to_text(CARD)
    assert "Foo is a German speech corpus with 1,000 hours & more." in text
    assert "Paper: The paper" in text
    for gone in (
        "license: mit",
        "#",
        "**",
        "<",
        "onerror",
        "load_dataset",
        "| split",
        "owned",
        "More Information Needed",
        "Homepage",
    ):
        assert gone not in text, gone


def test_escaped_markup_is_not_revived_as_markup():
    assert "<" not in markup_to_text("&lt;script&gt;alert(1)&lt;/script&gt; fine")
    assert plain_summary("a\n\n  b   c") == "a b c" and markup_to_text(None) == ""
