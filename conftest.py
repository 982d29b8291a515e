"""Root conftest: import the real `shared` package first, so pytest's importlib mode never shadows it with
the `shared/` folder when it names the modules of shared/tests."""

import shared  # noqa: F401
