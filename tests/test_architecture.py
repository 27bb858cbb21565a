"""The layout's promises, checked on every import in the portal's own code (README, "Architecture").

Every file of ``portal``, ``keys`` and ``keymanagers`` is parsed, migrations and admin modules
included: imports at module level, imports indented inside functions, ``apps.get_model("app", …)``
and ``import_module``/``import_string`` with a literal name all count as an edge.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "keys", "keymanagers")

# keys may use keymanagers' interface, models and shared helpers, never an adapter, DOT or HTTP.
FORBIDDEN_IN_KEYS = (
    "oauth2_provider",
    "oauthlib",
    "httpx",
    "requests",
    "urllib.request",
    "urllib3",
    "http.client",
    "keymanagers.resident",
    "keymanagers.oidc_dcr",
    "keymanagers.keycloak",
    "keymanagers.okta",
    "keymanagers.http",
    "keymanagers.adapters",
)
# What keys may import of keymanagers: the adapter interface and the modules it needs around it.
KEYMANAGERS_FOR_OTHERS = (
    "keymanagers.base",
    "keymanagers.models",
    "keymanagers.callbacks",
    "keymanagers.hooks",
)
# The REST API is a resource server of the resident authorization server: it checks the bearer
# tokens of API clients with the server's own check (one way to verify a resident token), and
# reaches nothing else of the resident package.
RESOURCE_SERVER_CHECKS = {"portal.apiclients.authentication": "keymanagers.resident.bearer"}
# The applications domain (its models live in portal.models, app label "portal"). Accounts (users,
# sign-in) sit below it: the resident server signs portal users in.
APPLICATIONS_DOMAIN = ("portal.applications", "portal.models")
# portal's infrastructure: used by every domain, so it imports none of them.
INFRASTRUCTURE = (
    "portal.settings",
    "portal.env",
    "portal.crypto",
    "portal.audit",
    "portal.api_errors",
    "portal.checks",
    "portal.health",
    "portal.context_processors",
    "portal.authentication",
    "portal.openapi",
    "portal.wsgi",
)
DOMAINS = ("keys", "keymanagers", "portal.applications", "portal.accounts", "portal.apiclients")
APP_LABEL_MODULES = {"keys": "keys.models", "keymanagers": "keymanagers.models", "portal": "portal.models"}
STRING_IMPORTERS = {"import_module", "import_string", "__import__"}


@dataclass(frozen=True)
class Edge:
    source: str  # dotted module name of the importing file
    target: str  # dotted module (or module.name) imported
    line: int
    indented: bool  # inside a function or class body, not at module level
    how: str  # "import", "get_model" or "string"

    def __str__(self) -> str:
        where = "inside a function" if self.indented else "at module level"
        return f"{self.source}:{self.line} {self.how}s {self.target} {where}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, source: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = source.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def edges_of(source_code: str, source: str, *, is_package: bool = False) -> list[Edge]:
    """Every edge in one file's source."""
    tree = ast.parse(source_code)
    # Module-level means: a statement of the module, or inside a module-level if/try (TYPE_CHECKING,
    # optional imports); anything under a def or class is indented.
    # ``AppConfig.ready()`` is where Django wants imports that need the loaded apps (hooks, checks,
    # receivers): an import there is as visible as one at the top, so it counts as module-level.
    nested: set[int] = set()
    in_ready: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            nested.update(id(child) for child in ast.walk(node) if child is not node)
        if isinstance(node, ast.FunctionDef) and node.name == "ready":
            in_ready.update(id(child) for child in ast.walk(node) if child is not node)
    nested -= in_ready

    edges: list[Edge] = []
    for node in ast.walk(tree):
        indented = id(node) in nested
        if isinstance(node, ast.Import):
            edges += [Edge(source, alias.name, node.lineno, indented, "import") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node, source, is_package)
            edges.append(Edge(source, module, node.lineno, indented, "import"))
            edges += [Edge(source, f"{module}.{a.name}", node.lineno, indented, "import") for a in node.names]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            if name == "get_model":
                label = first.value.split(".")[0]
                target = APP_LABEL_MODULES.get(label, label)
                edges.append(Edge(source, target, node.lineno, indented, "get_model"))
            elif name in STRING_IMPORTERS:
                edges.append(Edge(source, first.value, node.lineno, indented, "string"))
    return edges


def all_edges() -> list[Edge]:
    edges: list[Edge] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            edges += edges_of(path.read_text(), module_name(path), is_package=path.name == "__init__.py")
    return edges


def within(module: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def component(module: str) -> str:
    """The domain a module belongs to (``portal`` for its infrastructure and composition modules)."""
    return next((d for d in DOMAINS if within(module, d)), module.split(".")[0])


EDGES = all_edges()


def test_the_parser_sees_indented_imports_get_model_and_string_imports():
    # Without this, a parser that saw nothing would let every rule below pass.
    code = (
        "import os\n"
        "from keys.models import Scope\n"
        "def f():\n"
        "    from keymanagers.okta import OktaAdapter\n"
        "    apps.get_model('keys', 'ApplicationKey')\n"
        "    import_module('keymanagers.http')\n"
        "class C:\n"
        "    def ready(self):\n"
        "        from keys.models import ApplicationKey\n"
    )
    found = {(e.target, e.indented, e.how) for e in edges_of(code, "portal.example")}
    assert ("os", False, "import") in found
    assert ("keys.models.Scope", False, "import") in found
    assert ("keymanagers.okta.OktaAdapter", True, "import") in found
    assert ("keys.models", True, "get_model") in found
    assert ("keymanagers.http", True, "string") in found
    assert ("keys.models.ApplicationKey", False, "import") in found
    assert len({e.source.split(".")[0] for e in EDGES}) == len(PACKAGES)


def test_keys_never_imports_an_adapter_dot_or_an_http_client():
    offenders = [
        str(e)
        for e in EDGES
        if within(e.source, "keys")
        and (
            within(e.target, FORBIDDEN_IN_KEYS)
            or (within(e.target, "keymanagers") and not within(e.target, KEYMANAGERS_FOR_OTHERS))
        )
        # "from keymanagers import hooks" names the package first, then the module.
        and e.target != "keymanagers"
    ]
    assert offenders == []


def test_adapters_never_import_the_keys_app():
    # Adapters get plain dataclasses in and give plain dataclasses back (keymanagers/base.py); what
    # keymanagers needs from above, keys registers as hooks (keymanagers/hooks.py). No exemptions:
    # the admin and migrations are parsed too, and apps.get_model("keys", …) counts.
    offenders = [
        str(e)
        for e in EDGES
        if within(e.source, "keymanagers") and within(e.target, ("keys", *APPLICATIONS_DOMAIN))
    ]
    assert offenders == []


def test_keys_reaches_the_applications_domain_only_through_models_and_the_owner_scoped_lookup():
    # Applications build on keys (deleting one deletes its keys), so keys may not call back into
    # their services, pages or API: only the models and application_get.
    allowed = ("portal.models", "portal.applications.selectors")
    offenders = [
        str(e)
        for e in EDGES
        if within(e.source, "keys")
        and within(e.target, APPLICATIONS_DOMAIN)
        and not within(e.target, allowed)
        and e.target != "portal.applications"
    ]
    assert offenders == []


def test_portal_infrastructure_imports_no_domain():
    offenders = [str(e) for e in EDGES if within(e.source, INFRASTRUCTURE) and within(e.target, DOMAINS)]
    assert offenders == []


def test_imports_across_apps_are_at_module_level():
    # An import hidden in a function body hides a dependency (or dodges a cycle): between domains
    # every edge is at the top of the file, where a reader and the rules above see it.
    offenders = [
        str(e)
        for e in EDGES
        if e.indented
        and within(e.target, PACKAGES)
        and component(e.target) != component(e.source)
        and e.how == "import"
    ]
    assert offenders == []


def test_get_model_names_only_its_own_app():
    offenders = [str(e) for e in EDGES if e.how == "get_model" and component(e.target) != component(e.source)]
    assert offenders == []


def test_no_business_logic_hides_in_signal_receivers():
    # Deleting an application reaches keys by a plain call, key managers ask keys through the hooks
    # in keymanagers/hooks.py: nothing in the domains runs because a model was saved somewhere else.
    offenders = [
        str(e)
        for e in EDGES
        if within(e.source, ("keys", "keymanagers", "portal.applications"))
        and within(
            e.target, ("django.db.models.signals", "django.dispatch.receiver", "django.dispatch.Signal")
        )
    ]
    assert offenders == []


def test_only_keymanagers_interface_is_imported_from_outside():
    # Pages, the API, the admin of other apps: all reach an adapter through keymanagers.base.
    offenders = [
        str(e)
        for e in EDGES
        if not within(e.source, "keymanagers")
        and within(e.target, "keymanagers")
        and e.target != "keymanagers"
        and not within(e.target, KEYMANAGERS_FOR_OTHERS)
        and not (e.source in RESOURCE_SERVER_CHECKS and within(e.target, RESOURCE_SERVER_CHECKS[e.source]))
    ]
    assert offenders == []
