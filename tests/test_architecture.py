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
    "portal.admin_base",
    "portal.env",
    "portal.crypto",
    "portal.audit",
    "portal.api_errors",
    "portal.checks",
    "portal.health",
    "portal.context_processors",
    "portal.authentication",
    "portal.middleware",
    "portal.openapi",
    "portal.postgresql",
    "portal.wsgi",
)
DOMAINS = ("keys", "keymanagers", "portal.applications", "portal.accounts", "portal.apiclients")
APP_LABEL_MODULES = {"keys": "keys.models", "keymanagers": "keymanagers.models", "portal": "portal.models"}
STRING_IMPORTERS = {"import_module", "import_string", "__import__"}
# The only signals the portal listens to (README, "Architecture"): a sign-in, and the user's save
# (a new password), each honoured on every path; and the domains that react to them.
ACCOUNT_EVENTS = {("user_logged_in", ""), ("post_save", "get_user_model()")}
ACCOUNT_EVENT_LISTENERS = ("portal.accounts", "portal.apiclients", "keymanagers")
SIGNAL_MODULES = ("django.db.models.signals", "django.dispatch", "django.core.signals")


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


@dataclass(frozen=True)
class Receiver:
    module: str
    signal: str  # the signal's name as the code spells it (post_save, user_logged_in, …)
    sender: str  # the ``sender=`` argument as written, "" when there is none
    line: int

    def __str__(self) -> str:
        sender = f" of {self.sender}" if self.sender else ""
        return f"{self.module}:{self.line} receives {self.signal}{sender}"


def _name(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def receivers_of(source_code: str, module: str) -> list[Receiver]:
    """Every receiver in one file: ``@receiver(signal, …)`` and ``signal.connect(…)``, where
    ``signal`` is a name imported from a ``signals`` module (so ``socket.connect`` is not one)."""
    tree = ast.parse(source_code)
    signal_names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "signals"
        for alias in node.names
    }
    found: list[Receiver] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if _name(node.func) == "receiver" and node.args:
            signal = _name(node.args[0])
        elif _name(node.func) == "connect" and _name(getattr(node.func, "value", None)) in signal_names:
            signal = _name(node.func.value)
        else:
            continue
        sender = next((ast.unparse(k.value) for k in node.keywords if k.arg == "sender"), "")
        found.append(Receiver(module, signal, sender, node.lineno))
    return found


def _package_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, module_name(path)


def all_edges() -> list[Edge]:
    edges: list[Edge] = []
    for path, module in _package_files():
        edges += edges_of(path.read_text(), module, is_package=path.name == "__init__.py")
    return edges


def all_receivers() -> list[Receiver]:
    return [r for path, module in _package_files() for r in receivers_of(path.read_text(), module)]


def within(module: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def component(module: str) -> str:
    """The domain a module belongs to (``portal`` for its infrastructure and composition modules)."""
    return next((d for d in DOMAINS if within(module, d)), module.split(".")[0])


EDGES = all_edges()
RECEIVERS = all_receivers()


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


def test_the_parser_sees_every_kind_of_receiver():
    code = (
        "from django.contrib.auth.signals import user_logged_in\n"
        "from django.db.models.signals import post_delete as deleted\n"
        "@receiver(post_save, sender=Application)\n"
        "def f(sender, **kwargs): ...\n"
        "class C:\n"
        "    def ready(self):\n"
        "        user_logged_in.connect(f)\n"
        "        deleted.connect(f, sender=Key)\n"
        "        socket.connect(('example.com', 80))\n"
    )
    found = {(r.signal, r.sender) for r in receivers_of(code, "portal.example")}
    assert found == {("post_save", "Application"), ("user_logged_in", ""), ("deleted", "Key")}
    # And it sees the portal's own (the rules below would pass on a parser that saw nothing).
    assert {"portal.accounts.signals", "portal.apiclients.signals", "keymanagers.apps"} <= {
        r.module for r in RECEIVERS
    }


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


def test_signals_carry_only_account_events():
    # An account event must be honoured on every path (a sign-in by any page; a new password by the
    # pages, the admin, ``changepassword`` or the shell), and only a signal sees them all: those stay
    # signals. Everything else is an explicit call or a hook (keymanagers/hooks.py): no receiver of a
    # domain model's save or delete, no signal of our own.
    offenders = [
        str(r)
        for r in RECEIVERS
        if (r.signal, r.sender) not in ACCOUNT_EVENTS or not within(r.module, ACCOUNT_EVENT_LISTENERS)
    ]
    offenders += [str(e) for e in EDGES if within(e.target, "django.dispatch.Signal")]
    assert offenders == []


def test_no_signals_in_the_layers_that_call_explicitly():
    # Deleting an application reaches keys by a plain call, key managers ask keys through hooks,
    # infrastructure reacts to nothing: these import no signal machinery at all.
    offenders = [
        str(e)
        for e in EDGES
        if within(e.source, ("keys", *APPLICATIONS_DOMAIN, *INFRASTRUCTURE))
        and (within(e.target, SIGNAL_MODULES) or e.target.split(".")[-1] == "signals")
    ]
    assert offenders == []


def test_pages_and_the_rest_api_are_imported_only_by_url_confs_and_each_other():
    # Views and API modules sit on top of their app: services, selectors and models never reach up
    # into them (the API's vocabulary included), so a page and the API share the same services.
    def surface(module: str) -> bool:
        return any(part in ("views", "api") for part in module.split("."))

    offenders = [
        str(e)
        for e in EDGES
        if within(e.target, PACKAGES)
        and surface(e.target)
        and not surface(e.source)
        and not e.source.split(".")[-1].endswith("urls")
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
