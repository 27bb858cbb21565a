"""The keys pages' form renderer writes Django's form templates in Python: the same bytes as Django's
own renderer, for hostile values and on every state of the keys page (issue 14)."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.forms.widgets import ChoiceWidget
from django.urls import reverse
from django.utils.safestring import mark_safe

from keys.forms import KeyConfigForm, MapKeysForm, TokenForm
from keys.page_widgets import RENDERER
from keys.secrets.forms import SecretCreateForm
from tests.keys.helpers import CC_CONFIG, keys_url

DJANGO = DjangoTemplates()
HOSTILE = "<b>\"Tom\" & 'Jerry'</b>"


class EveryWidget(forms.Form):
    text = forms.CharField(
        label=HOSTILE, help_text=HOSTILE, widget=forms.TextInput(attrs={"data-x": HOSTILE})
    )
    number = forms.IntegerField(widget=forms.NumberInput(attrs={"min": 1, "required": True, "hidden": False}))
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False, assume_scheme="https")
    hidden = forms.CharField(widget=forms.HiddenInput, initial=mark_safe("<i>safe</i>"))
    check = forms.BooleanField(required=False, initial=True)
    choice = forms.ChoiceField(choices=[("a", HOSTILE), ("Group", [("b", "B"), ("c", "C & D")])], initial="b")
    plain_choice = forms.ChoiceField(
        choices=[("1", "one"), ("2", "two")], widget=forms.Select(attrs={"x": None})
    )
    many = forms.MultipleChoiceField(
        choices=[("x", HOSTILE), ("y", "Y")], widget=forms.CheckboxSelectMultiple, initial=["y"]
    )
    radio = forms.ChoiceField(choices=[("p", "P"), ("q", HOSTILE)], widget=forms.RadioSelect)
    area = forms.CharField(widget=forms.Textarea, required=False)  # not written in Python: the engine's


def renderings(form_class, data=None, **kwargs) -> list[str]:
    """Everything a template may ask of a form: the whole form, and per field its widget, label,
    errors and each choice's tag with and without its label."""
    form = form_class(data, **kwargs)
    out = [str(form), str(form.non_field_errors())]
    for field in form:
        out += [str(field), str(field.label_tag()), str(field.errors)]
        if isinstance(field.field.widget, ChoiceWidget):
            out += [str(choice) for choice in field] + [choice.tag() for choice in field]
    return out


@pytest.mark.parametrize(
    "data",
    [None, {}, {"text": HOSTILE, "number": "x", "choice": "zz", "many": ["x"], "radio": "q", "email": "bad"}],
    ids=["unbound", "empty", "invalid"],
)
def test_every_widget_label_and_error_list_matches_djangos_renderer(data):
    assert renderings(EveryWidget, data, renderer=RENDERER) == renderings(EveryWidget, data, renderer=DJANGO)


@pytest.mark.parametrize("bound", [False, True])
def test_the_keys_forms_render_as_with_djangos_renderer(bound):
    data = (
        {"secret-description": HOSTILE, "secret-expiry": "custom", "secret-custom_days": "0"}
        if bound
        else None
    )
    ours = renderings(SecretCreateForm, data, prefix="secret")
    assert SecretCreateForm.default_renderer is RENDERER
    theirs = renderings(SecretCreateForm, data, prefix="secret", renderer=DJANGO)
    assert ours == theirs


def _page(client, url, method="get", data=None) -> str:
    response = getattr(client, method)(url, data or {})
    assert response.status_code in (200, 400)
    # The CSRF token is masked afresh at every render.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


@pytest.fixture
def both_renderers(monkeypatch):
    """Render a page with the keys forms' renderer, then with Django's, and return both."""

    def render(page):
        ours = page()
        for form_class in (KeyConfigForm, MapKeysForm, TokenForm, SecretCreateForm):
            monkeypatch.setattr(form_class, "default_renderer", DJANGO)
        theirs = page()
        monkeypatch.undo()
        return ours, theirs

    return render


def test_the_keys_page_without_keys_is_the_same_html(owner_client, application, resident, both_renderers):
    ours, theirs = both_renderers(lambda: _page(owner_client, keys_url(application)))
    assert 'name="grant_types"' in ours and ours == theirs


def test_a_refused_generate_form_is_the_same_html(owner_client, application, resident, both_renderers):
    url = reverse(
        "keys_generate", kwargs={"application_id": application.pk, "env": "production", "km": resident.name}
    )
    bad = {"grant_types": ["client_credentials"], "application_access_token_expiry_time": "soon"}
    ours, theirs = both_renderers(lambda: _page(owner_client, url, "post", bad))
    assert "errorlist" in ours and ours == theirs


def test_the_keys_page_with_a_key_and_its_secrets_is_the_same_html(
    owner_client, owner, application, resident, both_renderers
):
    from keys import services

    services.keys_generate(
        application=application, key_type="PRODUCTION", key_manager=resident, config=CC_CONFIG, actor=owner
    )
    ours, theirs = both_renderers(lambda: _page(owner_client, keys_url(application)))
    assert 'name="secret-expiry"' in ours and 'name="update-grant_types"' in ours and ours == theirs
