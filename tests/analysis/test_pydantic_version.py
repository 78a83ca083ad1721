"""Which Pydantic a project runs on: code that only Pydantic 1 runs is evidence, anything
that also runs on Pydantic 2 (or guards itself with a fallback import) is not."""

from __future__ import annotations

import pytest

from codemods.analysis.pydantic_version import v1_evidence


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        pytest.param("a.py", "from pydantic.fields import ModelField\n", "line 1: imports ModelField from pydantic.fields, which Pydantic 2 removed", id="model-field"),
        pytest.param("a.py", "import os\nfrom pydantic import (\n    BaseModel,\n    ConstrainedStr as Name,\n)\n", "line 2: imports ConstrainedStr from pydantic, which Pydantic 2 removed", id="parenthesised-alias"),
        pytest.param("a.py", "from pydantic.error_wrappers import ErrorWrapper\n", "line 1: imports ErrorWrapper from pydantic.error_wrappers, a Pydantic 1 module", id="v1-module"),
        pytest.param("a.py", "from pydantic.errors import StrError\n", "line 1: imports StrError from pydantic.errors, which Pydantic 2 removed", id="v1-error-class"),
        pytest.param("a.py", "from pydantic import BaseModel\n\ndef pk_type(m):\n    return m.__fields__['id'].type_\n", "line 4: uses the Pydantic 1 field API (type_)", id="fields-type"),
        pytest.param("a.py", "def f(field):\n    return field.outer_type_\n", "line 2: uses the Pydantic 1 field API (outer_type_)", id="outer-type"),
        pytest.param("a.py", "class Ids(BaseModel):\n    __root__: list[int]\n", "line 2: declares a __root__ field, which Pydantic 2 refuses", id="custom-root"),
        pytest.param("setup.py", 'setup(install_requires=["fastapi", "pydantic >=1.8,<2.0"])\n', "line 1: requires pydantic >=1.8,<2.0", id="setup-range"),
        pytest.param("setup.py", 'REQUIRES = ["pydantic[email]~=1.10"]\n', "line 1: requires pydantic[email]~=1.10", id="setup-compatible"),
        pytest.param("setup.py", 'REQUIRES = ["pydantic==1.10.13"]\n', "line 1: requires pydantic==1.10.13", id="setup-exact"),
        # Not evidence: each runs on Pydantic 2.
        pytest.param("a.py", "from pydantic import BaseModel, Field\n", None, id="v2-names"),
        pytest.param("a.py", "from pydantic.errors import PydanticUserError\n", None, id="v2-error-class"),
        pytest.param("a.py", "try:\n    from pydantic.fields import ModelField\nexcept ImportError:\n    ModelField = None\n", None, id="fallback-import"),
        pytest.param("a.py", "from pydantic.v1.fields import ModelField\n", None, id="the-v1-shim-of-pydantic-2"),
        pytest.param("setup.py", 'REQUIRES = ["pydantic>=2", "pydantic-settings<3"]\n', None, id="setup-v2"),
        pytest.param("setup.py", 'REQUIRES = ["pydantic<2.5"]\n', None, id="setup-v2-minor-cap"),
        pytest.param("requirements.py", 'X = ["pydantic<2"]\n', None, id="requirement-string-outside-setup-py"),
        pytest.param("a.py", "x = field.type_\n", None, id="type-attribute-without-fields"),
    ],
)
def test_v1_evidence(path: str, source: str, expected: str | None) -> None:
    assert v1_evidence(path, source.encode()) == expected
