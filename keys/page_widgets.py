"""A form renderer for the keys pages that writes Django's simplest form templates in Python.

Django renders every widget, label and error list of a form through its template engine: an
``<input>`` is three templates (``text.html`` → ``input.html`` → ``attrs.html``), an empty error
list two. The keys page has about twenty of them, and a profile of it (issue 14) showed them as
the largest part of its rendering. ``PageFormRenderer`` produces the same bytes as those templates
(``tests/keys/test_page_widgets.py`` compares both on every form of the keys pages) for the
templates named in ``PYTHON_TEMPLATES``, and hands any other one (``select``, the checkbox group's
wrapper, a project override) to Django's renderer unchanged.

The templates written here are Django 5.2's, in ``django/forms/templates/django/forms/``; if a
Django upgrade changes one of them, the comparison test fails.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe


def _format_s(value) -> str:
    """``{{ value|stringformat:'s' }}``: ``stringformat`` keeps a safe string safe, the rest is
    escaped on output."""
    text = str(value)
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: dict) -> str:
    """``django/forms/widgets/attrs.html`` and ``django/forms/attrs.html``."""
    out = []
    for name, value in (attrs or {}).items():  # a label may have None
        if value is False:
            continue
        out.append(" " + conditional_escape(name))
        if value is not True:
            out.append('="' + _format_s(value) + '"')
    return "".join(out)


def _input(widget: dict) -> str:
    """``django/forms/widgets/input.html`` (text, number, password, checkbox, … include it)."""
    value = "" if widget["value"] is None else ' value="' + _format_s(widget["value"]) + '"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>"
    )


def _input_widget(context: dict) -> str:
    return _input(context["widget"])


def _input_option(context: dict) -> str:
    """``django/forms/widgets/input_option.html``: one checkbox or radio of a group."""
    widget = context["widget"]
    html = _input(widget)
    if not widget.get("wrap_label"):
        return html
    widget_id = widget["attrs"].get("id")
    label_for = f' for="{conditional_escape(widget_id)}"' if widget_id else ""
    # input.html ends with a line break, which the include keeps before the label's text.
    return f"<label{label_for}>{html}\n {conditional_escape(widget['label'])}</label>"


def _option(option: dict) -> str:
    """``django/forms/widgets/select_option.html``."""
    return (
        f'<option value="{_format_s(option["value"])}"{_attrs(option["attrs"])}>'
        f"{conditional_escape(option['label'])}</option>"
    )


def _select(context: dict) -> str:
    """``django/forms/widgets/select.html``, its line breaks included. Its options are included
    by the template itself (not through the renderer), so each is written here as
    ``select_option.html``; a widget with another option template goes to the engine."""
    widget = context["widget"]
    out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        # Each included select_option.html keeps its final line break.
        out.extend("\n  " + _option(option) + "\n" for option in group_choices)
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _label(context: dict) -> str:
    """``django/forms/label.html``."""
    label = conditional_escape(context["label"])
    if not context["use_tag"]:
        return label
    tag = conditional_escape(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{label}</{tag}>"


def _error_list(context: dict) -> str:
    """``django/forms/errors/list/default.html`` → ``ul.html``: nothing for no errors."""
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    id_attr = f' id="{conditional_escape(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{conditional_escape(error)}</li>" for error in errors)
    return f'<ul class="{conditional_escape(context["error_class"])}"{id_attr}>{items}</ul>'


#: Template name → its rendering in Python. Every other template goes through the engine.
PYTHON_TEMPLATES = {
    "django/forms/widgets/input.html": _input_widget,
    "django/forms/widgets/text.html": _input_widget,
    "django/forms/widgets/number.html": _input_widget,
    "django/forms/widgets/password.html": _input_widget,
    "django/forms/widgets/email.html": _input_widget,
    "django/forms/widgets/url.html": _input_widget,
    "django/forms/widgets/hidden.html": _input_widget,
    "django/forms/widgets/checkbox.html": _input_widget,
    "django/forms/widgets/input_option.html": _input_option,
    "django/forms/widgets/checkbox_option.html": _input_option,
    "django/forms/widgets/radio_option.html": _input_option,
    "django/forms/widgets/select.html": _select,
    "django/forms/label.html": _label,
    "django/forms/errors/list/default.html": _error_list,
    "django/forms/errors/list/ul.html": _error_list,
}


def _plain_options(widget: dict) -> bool:
    return all(
        option["template_name"] == "django/forms/widgets/select_option.html"
        for _name, options, _index in widget["optgroups"]
        for option in options
    )


class PageFormRenderer(DjangoTemplates):
    """Django's default form renderer, with the templates of ``PYTHON_TEMPLATES`` written in Python."""

    def render(self, template_name, context, request=None):
        python = PYTHON_TEMPLATES.get(template_name)
        if python is None or (python is _select and not _plain_options(context["widget"])):
            return super().render(template_name, context, request=request)
        # As Django's renderer answers: the template's output, stripped, as safe HTML.
        return mark_safe(python(context).strip())  # noqa: S308 - every value above is escaped


#: One instance for every form: the fallback's template engine is built once per process.
RENDERER = PageFormRenderer()
